/**
 * Compact copies of raft entry data for the in-memory raft log. The log keeps every entry until a
 * snapshot (--snapshot-count, 100,000 by default) and 5,000 after it, but an entry's data as it
 * arrives is a view into a larger buffer: Node's shared 8 KiB allocation pool (proposals encoded
 * by protobufjs) or a network read (entries from the leader). Keeping such a view keeps the whole
 * buffer, so a log of small entries held several times its size. Copying the data, in log order,
 * into slabs used for nothing else lets each slab go as soon as compaction has dropped its entries.
 */
import type { Entry } from '../api/raftpb/types.js';

/** Bytes per slab; data this large or larger gets a buffer of its own. */
const SLAB_BYTES = 256 * 1024;
const OWN_BUFFER_BYTES = 4 * 1024;

/** Copies entry data into append-only slabs. Single-threaded; copies are never written again. */
export class EntryDataSlab {
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;

  /**
   * Entries with the same term, index and type as `entries` and data copied out of shared
   * buffers. Entries whose data owns its whole buffer are returned as they are.
   */
  retainable(entries: readonly Entry[]): Entry[] {
    const out = new Array<Entry>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const d = e.data;
      out[i] = d.byteLength === 0 || d.byteLength === d.buffer.byteLength ? e : { term: e.term, index: e.index, type: e.type, data: this.copy(d) };
    }
    return out;
  }

  private copy(data: Uint8Array): Buffer {
    const n = data.byteLength;
    if (n >= OWN_BUFFER_BYTES) {
      const own = Buffer.allocUnsafeSlow(n);
      own.set(data);
      return own;
    }
    if (this.used + n > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.slab.set(data, at);
    // Keep copies 8-byte aligned, as Node's own pool does.
    this.used = (at + n + 7) & ~7;
    return this.slab.subarray(at, at + n);
  }
}
