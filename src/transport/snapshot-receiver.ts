import type { Message } from '../api/raftpb/types.js';

/** A snapshot stream received in full, checksum verified and fsynced to a temporary file. */
export interface ReceivedSnapshot {
  /** The member that sent it. */
  from: bigint;
  /** The MsgSnap that came with it (its `snapshot` holds the raft metadata). */
  message: Message;
  /** Absolute path of the temporary file holding the streamed body (the backend file). */
  path: string;
  /** Bytes in the file. */
  size: number;
}

/**
 * Takes over a received snapshot body (the server implements it). It should move `path` into
 * place atomically (a rename within the same directory) before resolving: once it resolves the
 * file is the server's, and the transport then hands `message` to `RaftReceiver.process`. If it
 * rejects, the transport deletes the file (when still there), does not process the message and
 * answers the sender with an error so it reports the snapshot as failed.
 */
export interface SnapshotReceiver {
  receiveSnapshot(snapshot: ReceivedSnapshot): Promise<void>;
}
