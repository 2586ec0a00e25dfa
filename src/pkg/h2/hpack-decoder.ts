/**
 * The HPACK decoder of one HTTP/2 connection (RFC 7541): it owns the dynamic table the peer's
 * encoder fills, so every header block of the connection must pass through it, in order.
 */

import { Buffer } from 'node:buffer';
import { huffmanDecode } from './hpack-huffman.js';
import { STATIC_TABLE, STATIC_TABLE_LENGTH } from './hpack-static-table.js';

/** RFC 7541 §4.1: an entry costs its name and value octets plus this overhead. */
const ENTRY_OVERHEAD = 32;
/** Largest integer we accept in a representation; larger ones are a COMPRESSION_ERROR. */
const MAX_INTEGER = 0x7fffffff;

// Index 0 unused, so HPACK index i reads STATIC_NAMES[i] directly.
const STATIC_NAMES: readonly string[] = ['', ...STATIC_TABLE.map((e) => e[0])];
const STATIC_VALUES: readonly string[] = ['', ...STATIC_TABLE.map((e) => e[1])];

/**
 * Decodes the header blocks of one connection. Not shareable between connections; blocks must
 * be decoded in the order they were received, including those of streams that get refused,
 * because each block may change the dynamic table (RFC 7541 §2.2).
 */
export class HpackDecoder {
  /** The table size we advertised (SETTINGS_HEADER_TABLE_SIZE), in octets; size updates may not exceed it. */
  private readonly maxTableSize: number;
  private readonly maxHeaderListBytes: number;
  /** Current dynamic table limit in octets, set by size updates (RFC 7541 §6.3); invariant: <= maxTableSize. */
  private limit: number;
  /** Octets held by the dynamic table (RFC 7541 §4.1); invariant: size <= limit. */
  private size = 0;
  // The dynamic table is a ring: slot `head` holds the newest entry (HPACK index 62), the next
  // older ones sit at head - 1, head - 2, ... modulo the capacity (a power of two).
  private readonly names: string[];
  private readonly values: string[];
  private readonly mask: number;
  private head = 0;
  private count = 0;
  // Out-parameters of the readers below, to avoid allocating a result per integer or string.
  private next = 0;
  private error = '';

  /**
   * @param maxTableSize the dynamic table size we advertise to the peer, in octets (RFC 7541 §4.2).
   * @param maxHeaderListBytes largest decoded header list accepted, counted as name + value + 32
   *   octets per field (RFC 9113 §6.5.2, SETTINGS_MAX_HEADER_LIST_SIZE).
   */
  constructor(maxTableSize = 4096, maxHeaderListBytes = 16 * 1024 * 1024) {
    this.maxTableSize = maxTableSize;
    this.maxHeaderListBytes = maxHeaderListBytes;
    this.limit = maxTableSize;
    // Every entry costs at least 32 octets, so the table never holds more than this many.
    const most = Math.max(1, Math.floor(maxTableSize / ENTRY_OVERHEAD));
    let capacity = 1;
    while (capacity < most) capacity *= 2;
    this.names = new Array<string>(capacity).fill('');
    this.values = new Array<string>(capacity).fill('');
    this.mask = capacity - 1;
  }

  /** Octets currently held by the dynamic table (RFC 7541 §4.1). */
  get dynamicTableSize(): number {
    return this.size;
  }

  /** Number of entries in the dynamic table. */
  get dynamicTableLength(): number {
    return this.count;
  }

  /** The dynamic table's current size limit in octets, as last set by the peer (RFC 7541 §6.3). */
  get dynamicTableLimit(): number {
    return this.limit;
  }

  /**
   * Decodes one complete header block (the HEADERS fragment plus its CONTINUATIONs), appending
   * name, value, name, value... to `out` in order. Returns undefined on success, else a short
   * error text. A text beginning with "header list too large" means the list exceeded
   * maxHeaderListBytes: the block was still fully decoded, so the table stays in sync and the
   * connection may go on (refuse the stream, e.g. with 431). Any other text is a COMPRESSION_ERROR
   * (RFC 9113 §4.3): the table is out of sync and the connection must end. On any error `out`
   * holds an unspecified prefix of the fields.
   */
  decode(block: Uint8Array, out: string[]): string | undefined {
    const buf = block instanceof Buffer ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const end = buf.length;
    let pos = 0;
    let listBytes = 0;
    let fieldSeen = false;
    while (pos < end) {
      const first = buf[pos]!;
      if (first >= 0x80) {
        // Indexed header field (RFC 7541 §6.1): the hot path once the peer's table is warm.
        let index = first & 0x7f;
        pos++;
        if (index === 0x7f) {
          index = this.readIntTail(buf, pos, index);
          if (index < 0) return this.error;
          pos = this.next;
        }
        let name: string;
        let value: string;
        if (index <= STATIC_TABLE_LENGTH) {
          if (index === 0) return 'indexed header field with index 0';
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const age = index - STATIC_TABLE_LENGTH - 1;
          if (age >= this.count) return `index ${index} beyond the tables`;
          const slot = (this.head - age) & this.mask;
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
        fieldSeen = true;
        listBytes += name.length + value.length + ENTRY_OVERHEAD;
        if (listBytes <= this.maxHeaderListBytes) out.push(name, value);
        continue;
      }
      if (first < 0x40 && first >= 0x20) {
        // Dynamic table size update (RFC 7541 §6.3), allowed only before the first field (§4.2).
        if (fieldSeen) return 'dynamic table size update after a header field';
        let size = first & 0x1f;
        pos++;
        if (size === 0x1f) {
          size = this.readIntTail(buf, pos, size);
          if (size < 0) return this.error;
          pos = this.next;
        }
        if (size > this.maxTableSize) return `dynamic table size update to ${size} above the limit ${this.maxTableSize}`;
        this.limit = size;
        this.evictTo(size);
        continue;
      }
      // Literal header field (RFC 7541 §6.2): with incremental indexing (01, 6-bit index), or
      // without indexing (0000) / never indexed (0001), 4-bit index. Index 0: a literal name.
      const incremental = first >= 0x40;
      const prefix = incremental ? 0x3f : 0x0f;
      let index = first & prefix;
      pos++;
      if (index === prefix) {
        index = this.readIntTail(buf, pos, index);
        if (index < 0) return this.error;
        pos = this.next;
      }
      let name: string;
      if (index === 0) {
        const literal = this.readString(buf, pos, end);
        if (literal === undefined) return this.error;
        name = literal;
        pos = this.next;
      } else if (index <= STATIC_TABLE_LENGTH) {
        name = STATIC_NAMES[index]!;
      } else {
        const age = index - STATIC_TABLE_LENGTH - 1;
        if (age >= this.count) return `index ${index} beyond the tables`;
        name = this.names[(this.head - age) & this.mask]!;
      }
      const value = this.readString(buf, pos, end);
      if (value === undefined) return this.error;
      pos = this.next;
      if (incremental) this.insert(name, value);
      fieldSeen = true;
      listBytes += name.length + value.length + ENTRY_OVERHEAD;
      if (listBytes <= this.maxHeaderListBytes) out.push(name, value);
    }
    if (listBytes > this.maxHeaderListBytes) {
      return `header list too large: ${listBytes} octets, limit ${this.maxHeaderListBytes}`;
    }
    return undefined;
  }

  /**
   * Reads the continuation octets of an integer whose N-bit prefix was full (RFC 7541 §5.1);
   * `value` is the prefix's maximum. Returns the integer and sets `next`, or -1 and sets `error`.
   */
  private readIntTail(buf: Buffer, pos: number, value: number): number {
    const end = buf.length;
    let factor = 1;
    for (;;) {
      if (pos >= end) {
        this.error = 'truncated integer';
        return -1;
      }
      const b = buf[pos++]!;
      value += (b & 0x7f) * factor;
      // Bounds the value, and the number of octets too: zero-valued continuation octets still
      // grow the factor past the limit.
      if (value > MAX_INTEGER || factor > MAX_INTEGER) {
        this.error = 'integer overflow';
        return -1;
      }
      if (b < 0x80) {
        this.next = pos;
        return value;
      }
      factor *= 128;
    }
  }

  /**
   * Reads a string literal (RFC 7541 §5.2) starting at `pos`, as latin1. Returns it and sets
   * `next`, or returns undefined and sets `error`.
   */
  private readString(buf: Buffer, pos: number, end: number): string | undefined {
    if (pos >= end) {
      this.error = 'truncated string';
      return undefined;
    }
    const first = buf[pos]!;
    let length = first & 0x7f;
    pos++;
    if (length === 0x7f) {
      length = this.readIntTail(buf, pos, length);
      if (length < 0) return undefined;
      pos = this.next;
    }
    if (length > end - pos) {
      this.error = 'truncated string';
      return undefined;
    }
    this.next = pos + length;
    if (first < 0x80) return buf.toString('latin1', pos, pos + length);
    const text = huffmanDecode(buf, pos, pos + length);
    if (text === undefined) this.error = 'invalid Huffman string';
    return text;
  }

  /** Adds an entry at the front of the dynamic table, evicting from the back (RFC 7541 §4.4). */
  private insert(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.limit) {
      // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
      this.evictTo(0);
      return;
    }
    this.evictTo(this.limit - entrySize);
    this.head = (this.head + 1) & this.mask;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.count++;
    this.size += entrySize;
  }

  /** Evicts the oldest entries until the table holds at most `size` octets (RFC 7541 §4.3). */
  private evictTo(size: number): void {
    while (this.size > size) {
      const slot = (this.head - this.count + 1) & this.mask;
      this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      // Drop the references so evicted strings can be collected.
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }
}
