/**
 * Reports, per voter, the highest log index it is known to have durably appended (its match).
 * `undefined` means the voter has not reported; it counts as index 0 for commit purposes.
 */
export interface AckedIndexer {
  ackedIndex(id: bigint): number | undefined;
}

/**
 * The committed index of a config with no voters. An empty majority commits everything so that a
 * joint config with an empty half behaves like its other half (etcd uses math.MaxUint64).
 */
export const INDEX_INFINITY = Number.MAX_SAFE_INTEGER;

/** An index as text, with the empty config's "everything" shown as `∞`. */
export function formatIndex(i: number): string {
  return i === INDEX_INFINITY ? '∞' : String(i);
}

/** An AckedIndexer over a plain map, for tests and tools. */
export class MapAckIndexer implements AckedIndexer {
  constructor(readonly acks: ReadonlyMap<bigint, number>) {}

  ackedIndex(id: bigint): number | undefined {
    return this.acks.get(id);
  }
}
