import type { Database } from 'lmdb';

/**
 * A named bucket of the backend: an lmdb sub-database with binary keys and raw binary values,
 * ordered by key bytes. Handles come from `Backend.bucket(name)` and stay valid until close
 * (defrag swaps the database underneath).
 */
export class Bucket {
  /** The bucket's name bytes, as etcd writes them into hashes. */
  readonly nameBytes: Uint8Array;

  /** @internal the lmdb sub-database; replaced when the backend reopens after defrag. */
  db: Database<Buffer, Buffer>;
  /** @internal the same sub-database read without copying values (see Backend.scan). */
  viewDb: Database<Uint8Array, Buffer>;

  constructor(
    readonly name: string,
    db: Database<Buffer, Buffer>,
    viewDb: Database<Uint8Array, Buffer>,
  ) {
    this.nameBytes = new TextEncoder().encode(name);
    this.db = db;
    this.viewDb = viewDb;
  }
}
