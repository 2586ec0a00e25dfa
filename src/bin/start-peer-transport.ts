/**
 * Wires the peer transport to a started server (wiring only): listens on --listen-peer-urls,
 * delivers peer messages and snapshots to the server, serves the server's peer paths (/members,
 * /leases),
 * and hands the transport to the server, which adds the members as peers and sends through it.
 */
import type { Logger } from '../pkg/logger.js';
import type { ServerConfig } from '../server/config/server-config.js';
import { dataDirLayout } from '../server/data-dir.js';
import type { EtcdServer } from '../server/etcd-server.js';
import { PeerLeaseForwarder } from '../server/lease-forward.js';
import { peerLeaseHandler } from '../server/peer-lease-handler.js';
import { peerMembersHandler } from '../server/peer-members-handler.js';
import { PeerTransport } from '../transport/index.js';

/** Starts the transport of `server` and attaches it. Rejects if a peer port cannot be bound. */
export async function startPeerTransport(server: EtcdServer, config: ServerConfig, logger: Logger): Promise<PeerTransport> {
  const transport = new PeerTransport({
    memberId: server.memberId,
    clusterId: server.clusterId,
    logger,
    raft: server.peerReceiver,
    snapshots: server.peerReceiver,
    snapshotDir: dataDirLayout(config).snapDir,
    handler: peerLeaseHandler(server.lease, peerMembersHandler(server)),
  });
  await transport.start(config.listenPeerUrls.map((u) => u.text));
  server.attachTransport(transport);
  // Followers forward keep-alives and time-to-live to the leader's peer URLs (etcd's leasehttp).
  server.lease.setLeaderForwarder(new PeerLeaseForwarder((id) => server.membership.member(id)?.peerUrls ?? []));
  return transport;
}
