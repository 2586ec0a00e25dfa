/**
 * A TCP proxy in front of one member's peer port, able to cut that member off from chosen peers.
 *
 * Members advertise the proxy's address as their peer URL, so every raft connection *to* member M
 * passes through M's proxy. A partition must also cut connections *from* M (etcd's stream readers
 * dial the remote peer and receive its messages on that connection), so on every accepted
 * connection the proxy finds which process dialed it: the dialer's socket is the /proc/net/tcp
 * entry whose local port is the accepted connection's remote port, and its inode is held open by
 * exactly one process (/proc/<pid>/fd). A connection passes when the dialer and the proxied member
 * are on the same side; otherwise it is held open with its bytes dropped, as on a lossy network,
 * and connections already open across the new cut are destroyed when a partition starts.
 * Linux only (it reads /proc).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Decides whether a connection dialed by process `dialerPid` (undefined: not a member) may reach the proxied member. */
export type ConnectionFilter = (dialerPid: number | undefined) => boolean;

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** The inode of the loopback TCP socket with local port `localPort` connected to `remotePort`. */
function socketInode(localPort: number, remotePort: number): string | undefined {
  const local = `:${hexPort(localPort)}`;
  const remote = `:${hexPort(remotePort)}`;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[1]!.endsWith(local) && cols[2]!.endsWith(remote)) return cols[9];
    }
  }
  return undefined;
}

/** Which of `pids` holds the socket with inode `inode` open. */
function ownerOf(inode: string, pids: readonly number[]): number | undefined {
  const link = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return pid;
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return undefined;
}

interface Link {
  readonly client: Socket;
  readonly dialerPid: number | undefined;
  upstream: Socket | undefined;
}

/** A proxy listening on `listenPort` and forwarding to 127.0.0.1:`targetPort`. */
export class PeerProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private filter: ConnectionFilter = () => true;

  /**
   * `candidatePids` lists the processes that may have dialed (the members' current pids); it is
   * asked on every connection because a restarted member has a new pid.
   */
  constructor(
    readonly listenPort: number,
    readonly targetPort: number,
    private readonly candidatePids: () => readonly number[],
  ) {}

  /** Starts listening. */
  start(): Promise<void> {
    return new Promise((resolveListen, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolveListen());
      this.server = server;
    });
  }

  private dialerOf(socket: Socket): number | undefined {
    const inode = socket.remotePort === undefined ? undefined : socketInode(socket.remotePort, this.listenPort);
    return inode === undefined ? undefined : ownerOf(inode, this.candidatePids());
  }

  private accept(client: Socket): void {
    const link: Link = { client, dialerPid: this.dialerOf(client), upstream: undefined };
    this.links.add(link);
    client.on('error', () => {});
    client.once('close', () => {
      this.links.delete(link);
      link.upstream?.destroy();
    });
    if (this.filter(link.dialerPid)) this.connect(link);
    else client.resume(); // held open, bytes dropped: a partitioned network
  }

  private connect(link: Link): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    link.upstream = upstream;
    upstream.on('error', () => {});
    upstream.once('close', () => link.client.destroy());
    link.client.pipe(upstream);
    upstream.pipe(link.client);
  }

  /** Applies a new filter: open connections it rejects are destroyed, later ones are checked on arrival. */
  setFilter(filter: ConnectionFilter): void {
    this.filter = filter;
    for (const link of this.links) {
      if (!filter(link.dialerPid)) {
        link.client.destroy();
        link.upstream?.destroy();
      }
    }
  }

  /** How many connections are open through (or held by) the proxy. */
  get connectionCount(): number {
    return this.links.size;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    await new Promise<void>((resolveClose) => (this.server === undefined ? resolveClose() : this.server.close(() => resolveClose())));
  }
}
