import type { Message } from '../api/raftpb/types.js';

/**
 * What the transport needs from the local raft node (the server implements it). Every method is
 * called from an I/O callback or a later loop turn, never synchronously inside
 * `PeerTransport.send`, so the implementation may step raft or queue for the host loop.
 */
export interface RaftReceiver {
  /** Hands over a message received from a peer, in the order that peer sent it. */
  process(msg: Message): void;
  /** Whether `id` was removed from the cluster: its streams and snapshots are refused. */
  isIdRemoved(id: bigint): boolean;
  /** The peer could not be reached or a message to it was dropped (raft falls back to probing it). */
  reportUnreachable(id: bigint): void;
  /** Outcome of a snapshot sent to `id` (raft resumes replication to it, or retries). */
  reportSnapshot(id: bigint, ok: boolean): void;
}
