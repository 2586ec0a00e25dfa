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
