/**
 * A set of revisions, as etcd's `map[revision]struct{}`: the revisions a compaction keeps.
 * Revisions pack into one number (main * 2^16 + sub) while that stays exact; the rare others
 * (sub >= 2^16 or main >= 2^37) go to a string set.
 */
export class RevisionSet {
  private readonly packed = new Set<number>();
  private readonly other = new Set<string>();

  private static pack(main: number, sub: number): number {
    return sub < 0x1_0000 && main < 2 ** 37 ? main * 0x1_0000 + sub : -1;
  }

  /** Adds (main, sub). */
  add(main: number, sub: number): void {
    const p = RevisionSet.pack(main, sub);
    if (p >= 0) this.packed.add(p);
    else this.other.add(`${main}_${sub}`);
  }

  /** Whether (main, sub) is in the set. */
  has(main: number, sub: number): boolean {
    const p = RevisionSet.pack(main, sub);
    return p >= 0 ? this.packed.has(p) : this.other.has(`${main}_${sub}`);
  }

  /** Removes (main, sub). */
  delete(main: number, sub: number): void {
    const p = RevisionSet.pack(main, sub);
    if (p >= 0) this.packed.delete(p);
    else this.other.delete(`${main}_${sub}`);
  }

  /** The revisions held, in ascending order (for tests and debugging). */
  values(): { main: number; sub: number }[] {
    const out = [...this.packed].map((p) => ({ main: Math.floor(p / 0x1_0000), sub: p % 0x1_0000 }));
    for (const s of this.other) {
      const [main, sub] = s.split('_').map(Number) as [number, number];
      out.push({ main, sub });
    }
    return out.sort((a, b) => (a.main !== b.main ? a.main - b.main : a.sub - b.sub));
  }

  /** Number of revisions held. */
  get size(): number {
    return this.packed.size + this.other.size;
  }
}
