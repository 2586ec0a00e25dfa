import type { IncomingHttpHeaders } from 'node:http';

/**
 * The etcd-ts peer protocol, version 1, on the peer port (HTTP/1.1, or HTTPS with peer TLS):
 * - `GET /raft/stream` with `Upgrade: etcd-ts-raft` opens the sender's long-lived raft stream to
 *   the receiver. After `101 Switching Protocols` the socket carries frames (4-byte big-endian
 *   length, then an encoded raftpb.Message); a zero-length frame is a keepalive, sent both ways.
 * - `POST /raft/snapshot` carries one snapshot: a 4-byte length, the encoded MsgSnap, the body
 *   (`x-etcd-ts-snapshot-size` bytes) and the body's SHA-256 (32 bytes). `204` means installed.
 * - `GET /raft/probing` answers `{"health":"true"}` (round-trip measurement).
 * Both raft paths carry the handshake headers below; the receiver refuses another cluster's
 * member (412), a request meant for another member (412), a removed member (410) and an unknown
 * protocol version (400).
 */
export const PEER_PROTOCOL_VERSION = 1;

/** Path of the raft message stream. */
export const RAFT_STREAM_PATH = '/raft/stream';
/** Path of snapshot uploads. */
export const RAFT_SNAPSHOT_PATH = '/raft/snapshot';
/** Path of the health probe. */
export const RAFT_PROBE_PATH = '/raft/probing';
/** The `Upgrade` token of the raft stream. */
export const UPGRADE_TOKEN = 'etcd-ts-raft';

/** A zero-length frame: keeps an idle stream alive and tells the other side we are. */
export const KEEPALIVE_FRAME: Buffer = Buffer.alloc(4);

/** Header names of the handshake (lowercase, as Node presents them). */
export const PeerHeader = {
  protocol: 'x-etcd-ts-peer-protocol',
  clusterId: 'x-etcd-cluster-id',
  from: 'x-server-from',
  to: 'x-raft-to',
  snapshotSize: 'x-etcd-ts-snapshot-size',
} as const;

/** Who the local member is, as the handshake states it. */
export interface PeerIdentity {
  memberId: bigint;
  clusterId: bigint;
}

/** A member or cluster ID as etcd prints it: lowercase hex without padding. */
export function formatId(id: bigint): string {
  return id.toString(16);
}

const HEX_ID = /^[0-9a-fA-F]{1,16}$/;

/** Parses an ID header value; undefined unless it is 1 to 16 hex digits. */
export function parseId(value: string | string[] | undefined): bigint | undefined {
  if (typeof value !== 'string' || !HEX_ID.test(value)) return undefined;
  return BigInt(`0x${value}`);
}

/** The handshake headers of a request from `local` to member `to`. */
export function handshakeHeaders(local: PeerIdentity, to: bigint): Record<string, string> {
  return {
    [PeerHeader.protocol]: String(PEER_PROTOCOL_VERSION),
    [PeerHeader.clusterId]: formatId(local.clusterId),
    [PeerHeader.from]: formatId(local.memberId),
    [PeerHeader.to]: formatId(to),
  };
}

/** The receiver's decision on a handshake. */
export type HandshakeVerdict =
  | { ok: true; from: bigint }
  | {
      ok: false;
      /** HTTP status to answer with. */
      status: number;
      /** Short reason, sent as the response body and logged. */
      reason: string;
      /** Sender's member ID, when it could be read. */
      from: bigint | undefined;
      /** Sender's cluster ID, when it could be read. */
      remoteClusterId: bigint | undefined;
    };

/** Checks the handshake headers of an incoming stream or snapshot against the local member. */
export function checkHandshake(headers: IncomingHttpHeaders, local: PeerIdentity, isIdRemoved: (id: bigint) => boolean): HandshakeVerdict {
  const from = parseId(headers[PeerHeader.from]);
  const remoteClusterId = parseId(headers[PeerHeader.clusterId]);
  const refuse = (status: number, reason: string): HandshakeVerdict => ({ ok: false, status, reason, from, remoteClusterId });
  if (headers[PeerHeader.protocol] !== String(PEER_PROTOCOL_VERSION)) {
    return refuse(400, `unsupported peer protocol version ${JSON.stringify(headers[PeerHeader.protocol] ?? '')} (want ${PEER_PROTOCOL_VERSION})`);
  }
  if (from === undefined || remoteClusterId === undefined) return refuse(400, 'missing or malformed member or cluster ID header');
  if (remoteClusterId !== local.clusterId) return refuse(412, 'cluster ID mismatch');
  const to = parseId(headers[PeerHeader.to]);
  if (to !== local.memberId) return refuse(412, 'to-member ID mismatch');
  if (isIdRemoved(from)) return refuse(410, 'the member has been permanently removed from the cluster');
  return { ok: true, from };
}
