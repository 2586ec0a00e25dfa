import { INDEX_INFINITY, type AckedIndexer } from './acked-indexer.js';
import { VoteResult } from './vote-result.js';

function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Formats a sorted ID list as `(1 2 3)`. */
function formatIds(ids: readonly bigint[]): string {
  return `(${ids.join(' ')})`;
}

/**
 * A set of voter IDs that decides by simple majority (Raft §5.2, §5.3). Mutate `ids` directly;
 * the config keeps no derived state besides a scratch buffer.
 */
export class MajorityConfig {
  /** The voters. */
  readonly ids: Set<bigint>;
  // Reused by committedIndex so the hot path allocates nothing while the config size is stable.
  private scratch: number[] = [];

  constructor(ids?: Iterable<bigint>) {
    this.ids = new Set(ids);
  }

  /** Number of voters. */
  get size(): number {
    return this.ids.size;
  }

  /** The voter IDs in ascending order. */
  slice(): bigint[] {
    return [...this.ids].sort(compareIds);
  }

  /** A new config with the same voters. */
  clone(): MajorityConfig {
    return new MajorityConfig(this.ids);
  }

  /** `(1 2 3)`, IDs ascending. */
  toString(): string {
    return formatIds(this.slice());
  }

  /**
   * The highest index acknowledged by a majority of the voters (Raft §5.3): voters that have not
   * reported count as 0. An empty config returns INDEX_INFINITY.
   */
  committedIndex(l: AckedIndexer): number {
    const n = this.ids.size;
    if (n === 0) return INDEX_INFINITY;
    const srt = this.scratch;
    if (srt.length !== n) srt.length = n;
    let i = 0;
    for (const id of this.ids) srt[i++] = l.ackedIndex(id) ?? 0;
    // Insertion sort: n is small (3 to 7 in practice) and this sorts in place without a comparator closure.
    for (let a = 1; a < n; a++) {
      const v = srt[a]!;
      let b = a - 1;
      while (b >= 0 && srt[b]! > v) {
        srt[b + 1] = srt[b]!;
        b--;
      }
      srt[b + 1] = v;
    }
    // The smallest index held by a quorum: count n/2+1 from the top of the sorted list.
    return srt[n - (Math.floor(n / 2) + 1)]!;
  }

  /**
   * The election outcome given the votes cast so far (true = granted). Voters absent from `votes`
   * are still pending. By convention an empty config wins, so an empty joint half defers to the
   * other.
   */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    const n = this.ids.size;
    if (n === 0) return VoteResult.VoteWon;
    let granted = 0;
    let missing = 0;
    for (const id of this.ids) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const q = Math.floor(n / 2) + 1;
    if (granted >= q) return VoteResult.VoteWon;
    if (granted + missing >= q) return VoteResult.VotePending;
    return VoteResult.VoteLost;
  }

  /**
   * A multi-line picture of each voter's acked index: a bar whose length is the number of voters
   * with a strictly smaller index (missing acks count as 0), `?` for voters that have not
   * reported. For tests and debugging.
   */
  describe(l: AckedIndexer): string {
    const n = this.ids.size;
    if (n === 0) return '<empty majority quorum>';
    const info = [...this.ids].map((id) => {
      const idx = l.ackedIndex(id);
      return { id, idx: idx ?? 0, ok: idx !== undefined, bar: 0 };
    });
    info.sort((a, b) => a.idx - b.idx || compareIds(a.id, b.id));
    // Equal indexes get equal bars: a voter's bar counts the voters strictly below it.
    for (let i = 1; i < info.length; i++) {
      info[i]!.bar = info[i - 1]!.idx < info[i]!.idx ? i : info[i - 1]!.bar;
    }
    info.sort((a, b) => compareIds(a.id, b.id));
    let out = ' '.repeat(n) + '    idx\n';
    for (const t of info) {
      out += t.ok ? 'x'.repeat(t.bar) + '>' + ' '.repeat(n - t.bar) : '?' + ' '.repeat(n);
      out += ` ${String(t.idx).padStart(5)}    (id=${t.id})\n`;
    }
    return out;
  }
}
