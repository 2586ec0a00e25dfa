/**
 * The server's side of the peer transport: forwards the host loop's messages to the transport
 * once one is attached, hands MsgSnap messages to the snapshot sender instead (the leader streams
 * its backend with them, as etcd's raftNode does), and keeps the transport's peers in step with
 * the applied membership.
 */
import { MessageType, type Message } from '../api/raftpb/types.js';
import type { Member } from './member.js';
import type { ClusterTransport, PeerSender } from './peer-sender.js';

/** Forwards messages and membership to an attachable transport; see the file comment. */
export class PeerLink implements PeerSender {
  private transport: ClusterTransport | undefined;

  /**
   * @param selfId this member's ID (never a peer of itself)
   * @param onSnapshot sends one MsgSnap with the state machine's data
   */
  constructor(
    private readonly selfId: bigint,
    private readonly onSnapshot: (m: Message) => void,
  ) {}

  /** The attached transport, if any. */
  get attached(): ClusterTransport | undefined {
    return this.transport;
  }

  /** Attaches the transport and adds every member but this one as its peer. */
  attach(transport: ClusterTransport, members: readonly Member[]): void {
    this.transport = transport;
    this.syncMembers(members);
  }

  /** Adds (or updates) every member but this one as a peer. */
  syncMembers(members: readonly Member[]): void {
    const t = this.transport;
    if (t === undefined) return;
    for (const m of members) if (m.id !== this.selfId && m.peerUrls.length > 0) t.addPeer(m.id, m.peerUrls);
  }

  send(messages: readonly Message[]): void {
    const t = this.transport;
    if (t === undefined) return;
    let snaps = 0;
    for (let i = 0; i < messages.length; i++) if (messages[i]!.type === MessageType.MsgSnap) snaps++;
    if (snaps === 0) {
      t.send(messages);
      return;
    }
    const rest: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.MsgSnap) this.onSnapshot(m);
      else rest.push(m);
    }
    if (rest.length > 0) t.send(rest);
  }

  /** A member was added (or its URLs changed) by a committed conf change. */
  memberAdded(m: Member): void {
    if (m.id !== this.selfId) this.transport?.addPeer(m.id, m.peerUrls);
  }

  /** A member's peer URLs changed. */
  memberUpdated(m: Member): void {
    if (m.id !== this.selfId) this.transport?.updatePeer(m.id, m.peerUrls);
  }

  /** A member was removed. */
  memberRemoved(id: bigint): void {
    if (id !== this.selfId) this.transport?.removePeer(id);
  }

  /**
   * Whether a peer refused this member's stream because it was removed from the cluster (HTTP
   * 410, etcd's errMemberRemoved): a removed member may never apply its own removal.
   */
  refusedAsRemoved(): boolean {
    const t = this.transport;
    if (t === undefined) return false;
    return t.stats.peers.some((p) => p.lastError !== undefined && /\b410\b/.test(p.lastError));
  }

  /** When the stream to `id` became active (ms), undefined while it is not (or without a transport). */
  activeSince(id: bigint): number | undefined {
    return this.transport?.activeSince(id);
  }
}
