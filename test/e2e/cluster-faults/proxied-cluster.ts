/**
 * A cluster whose members reach each other only through PeerProxy: each member listens for peers
 * on a private port and advertises its proxy's port (which `--initial-cluster` names, so member
 * and cluster IDs follow the proxy URLs). partition() cuts the members into sides that cannot
 * exchange a byte; heal() joins them again. Client ports are not proxied: clients still reach
 * every member, as in a network partition between data centres that each keep their clients.
 */
import { freePorts, startMember, type Member, type MemberKind } from '../harness/index.js';
import { PeerProxy } from './proxy.js';

/** A running proxied cluster; destroy() stops members and proxies. */
export interface ProxiedCluster {
  readonly members: readonly Member[];
  readonly endpoints: readonly string[];
  readonly proxies: readonly PeerProxy[];
  /** Cuts the members into `sides`; members listed nowhere form one more side together. */
  partition(sides: readonly (readonly Member[])[]): void;
  /** Removes every cut. */
  heal(): void;
  destroy(): Promise<void>;
}

/** Starts `size` members of `kind` behind proxies and waits until all are healthy. */
export async function startProxiedCluster(
  kind: MemberKind,
  size: number,
  opts: { token: string; extraArgs?: readonly string[]; readyTimeoutMs?: number },
): Promise<ProxiedCluster> {
  const ports = await freePorts(3 * size);
  const names = Array.from({ length: size }, (_, i) => `p${i}`);
  // Per member: client port, advertised (proxy) peer port, private listening peer port.
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[3 * i + 1]}`).join(',');
  const members: Member[] = [];
  const proxies: PeerProxy[] = [];
  const memberPids = (): number[] => members.map((m) => m.pid).filter((p): p is number => p !== undefined);
  const destroy = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.destroy()));
    await Promise.all(proxies.map((p) => p.close()));
  };
  try {
    for (let i = 0; i < size; i++) {
      const proxy = new PeerProxy(ports[3 * i + 1]!, ports[3 * i + 2]!, memberPids);
      await proxy.start();
      proxies.push(proxy);
    }
    for (let i = 0; i < size; i++) {
      members.push(
        await startMember(kind, {
          name: names[i]!,
          clientPort: ports[3 * i]!,
          peerPort: ports[3 * i + 1]!,
          initialCluster,
          initialClusterToken: opts.token,
          // The flag given last wins, in etcd as in etcd-ts: listen privately, advertise the proxy.
          extraArgs: [...(opts.extraArgs ?? []), `--listen-peer-urls=http://127.0.0.1:${ports[3 * i + 2]}`],
          waitReady: false,
        }),
      );
    }
    await Promise.all(members.map((m) => m.waitReady(opts.readyTimeoutMs)));
  } catch (err) {
    await destroy();
    throw err;
  }
  const sideOf = (pid: number | undefined, sides: readonly (readonly Member[])[]): number => {
    const i = sides.findIndex((side) => side.some((m) => m.pid === pid));
    return i < 0 ? sides.length : i;
  };
  return {
    members,
    endpoints: members.map((m) => m.endpoint),
    proxies,
    partition(sides) {
      proxies.forEach((proxy, i) => {
        const owner = members[i]!;
        proxy.setFilter((dialer) => {
          if (dialer === undefined || !members.some((m) => m.pid === dialer)) return true;
          return sideOf(dialer, sides) === sideOf(owner.pid, sides);
        });
      });
    },
    heal() {
      for (const proxy of proxies) proxy.setFilter(() => true);
    },
    destroy,
  };
}
