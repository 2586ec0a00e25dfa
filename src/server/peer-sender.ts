import type { Message } from '../api/raftpb/types.js';

/**
 * Where the host loop sends raft messages to other members. The transport implements it; it must
 * not block (queue and return) and reports failures back through the raft node
 * (reportUnreachable / reportSnapshot), never by throwing.
 */
export interface PeerSender {
  send(messages: readonly Message[]): void;
}

/** The sender of a single-member cluster: there is nobody to send to. */
export const noPeers: PeerSender = {
  send(): void {},
};

/**
 * The peer transport as the server drives it (src/transport's PeerTransport has this shape; the
 * executable wires one in, since the server may not import the transport).
 */
export interface ClusterTransport extends PeerSender {
  /** Starts streaming to member `id` at `urls` (an existing peer's URLs are updated). */
  addPeer(id: bigint, urls: readonly string[]): void;
  /** Changes the peer URLs of member `id`. */
  updatePeer(id: bigint, urls: readonly string[]): void;
  /** Forgets member `id` and closes its streams. */
  removePeer(id: bigint): void;
  /**
   * Streams a MsgSnap and `size` bytes of `body` (the backend file) to `msg.to`; reports the
   * outcome to raft itself and resolves to it, never rejects.
   */
  sendSnapshot(msg: Message, body: AsyncIterable<Uint8Array>, size: number): Promise<boolean>;
  /** When the stream to member `id` became active (ms since the epoch), undefined while it is not. */
  activeSince(id: bigint): number | undefined;
  /** Per peer, why its stream last failed (a refusal because this member was removed says `410`). */
  readonly stats: { readonly peers: readonly { readonly lastError: string | undefined }[] };
}
