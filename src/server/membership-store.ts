/**
 * The cluster's membership as applied from the log (etcd's RaftCluster), kept in the backend so
 * that it survives restarts with the data it belongs to: bucket `members` maps the member ID (hex)
 * to the member's JSON, `members_removed` marks removed IDs, and bucket `cluster` holds the
 * cluster version under `clusterVersion`, as etcd 3.4 stores them. Changes go into the backend's
 * open batch and commit with the apply batch that made them.
 */
import type { Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { memberFromJson, memberToJson, type Member, type MemberAttributes } from './member.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const CLUSTER_VERSION_KEY = enc.encode('clusterVersion');
const REMOVED = enc.encode('removed');

function idKey(id: bigint): Uint8Array {
  return enc.encode(id.toString(16));
}

/** The applied membership of the cluster. */
export class MembershipStore {
  private readonly byId = new Map<bigint, Member>();
  private readonly removed = new Set<bigint>();
  private version: string | undefined;
  private readonly membersBucket: Bucket;
  private readonly removedBucket: Bucket;
  private readonly clusterBucket: Bucket;

  /** Loads the membership stored in `backend` (empty for a new one). */
  constructor(private readonly backend: Backend) {
    this.membersBucket = backend.bucket('members');
    this.removedBucket = backend.bucket('members_removed');
    this.clusterBucket = backend.bucket('cluster');
    backend.forEach(this.membersBucket, new Uint8Array(0), undefined, (_k, v) => {
      const { member } = memberFromJson(dec.decode(v));
      this.byId.set(member.id, member);
    });
    backend.forEach(this.removedBucket, new Uint8Array(0), undefined, (k) => {
      this.removed.add(BigInt(`0x${dec.decode(k)}`));
    });
    const v = backend.get(this.clusterBucket, CLUSTER_VERSION_KEY);
    if (v !== undefined) this.version = dec.decode(v);
  }

  /** Members in ascending ID order. */
  members(): Member[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The member with `id`, if any. */
  member(id: bigint): Member | undefined {
    return this.byId.get(id);
  }

  /** Whether `id` was removed from the cluster. */
  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** The decided cluster version (`3.4.0`), undefined before it is set. */
  get clusterVersion(): string | undefined {
    return this.version;
  }

  private save(m: Member): void {
    this.byId.set(m.id, m);
    this.backend.batchTx.put(this.membersBucket, idKey(m.id), enc.encode(memberToJson(m)));
  }

  /** Adds (or replaces) a member. */
  add(m: Member): void {
    this.save(m);
  }

  /** Removes a member and remembers its ID as removed. */
  remove(id: bigint): void {
    this.byId.delete(id);
    this.removed.add(id);
    this.backend.batchTx.delete(this.membersBucket, idKey(id));
    this.backend.batchTx.put(this.removedBucket, idKey(id), REMOVED);
  }

  /** Sets the name and client URLs a member published. Returns false for an unknown member. */
  updateAttributes(id: bigint, attrs: MemberAttributes): boolean {
    const m = this.byId.get(id);
    if (m === undefined) return false;
    this.save({ ...m, name: attrs.name, clientUrls: [...attrs.clientUrls] });
    return true;
  }

  /** Sets a member's peer URLs. Returns false for an unknown member. */
  updatePeerUrls(id: bigint, peerUrls: readonly string[]): boolean {
    const m = this.byId.get(id);
    if (m === undefined) return false;
    this.save({ ...m, peerUrls: [...peerUrls] });
    return true;
  }

  /** Makes a learner a voting member. Returns false for an unknown member. */
  promote(id: bigint): boolean {
    const m = this.byId.get(id);
    if (m === undefined) return false;
    this.save({ ...m, isLearner: false });
    return true;
  }

  /** Records the cluster version. */
  setClusterVersion(version: string): void {
    this.version = version;
    this.backend.batchTx.put(this.clusterBucket, CLUSTER_VERSION_KEY, enc.encode(version));
  }
}
