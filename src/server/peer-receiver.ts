/**
 * What the peer transport calls into (the shapes of src/transport's RaftReceiver and
 * SnapshotReceiver, declared here because the server may not import the transport): messages from
 * peers go to the host loop, which steps them on its next turn; removed members are refused.
 */
import type { Message } from '../api/raftpb/types.js';

/** A snapshot body streamed in full to a temporary file in the snap dir. */
export interface IncomingSnapshot {
  from: bigint;
  message: Message;
  path: string;
  size: number;
}

/** The server's receiver of peer traffic. */
export interface PeerReceiver {
  process(msg: Message): void;
  isIdRemoved(id: bigint): boolean;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** Takes over a received snapshot body (moves it into place) before its MsgSnap is processed. */
  receiveSnapshot(snapshot: IncomingSnapshot): Promise<void>;
}

/** The host loop operations a PeerReceiver forwards to. */
export interface PeerReceiverTarget {
  step(m: Message): void;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
}

/** Builds the receiver over the host loop, the removed-member check and the snapshot intake. */
export function peerReceiver(
  node: () => PeerReceiverTarget,
  isRemoved: (id: bigint) => boolean,
  takeSnapshot: (s: IncomingSnapshot) => Promise<void>,
): PeerReceiver {
  return {
    process: (msg) => node().step(msg),
    isIdRemoved: isRemoved,
    reportUnreachable: (id) => node().reportUnreachable(id),
    reportSnapshot: (id, ok) => node().reportSnapshot(id, ok),
    receiveSnapshot: takeSnapshot,
  };
}
