/** The peer transport: raft message streams and snapshot streaming between members. */
export { PeerTransport, type PeerStats, type TransportStats } from './peer-transport.js';
export type { PeerTransportOptions } from './transport-options.js';
export type { RaftReceiver } from './raft-receiver.js';
export type { ReceivedSnapshot, SnapshotReceiver } from './snapshot-receiver.js';
export type { SnapshotSendCallbacks } from './snapshot-sender.js';
export { PEER_PROTOCOL_VERSION, RAFT_PROBE_PATH, RAFT_SNAPSHOT_PATH, RAFT_STREAM_PATH, formatId, parseId } from './peer-handshake.js';
