/**
 * Free TCP ports on 127.0.0.1 for members to listen on. The kernel picks each port (bind to 0);
 * all listeners of one call stay open until every port is known, so one call never returns the
 * same port twice, and ports handed out earlier in this process are not handed out again.
 */
import { createServer, type Server } from 'node:net';

const handedOut = new Set<number>();

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveServer(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolveClose) => server.close(() => resolveClose()));
}

/** Returns `count` distinct ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = await listenOnAnyPort();
      servers.push(server);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
      if (handedOut.has(address.port)) continue;
      handedOut.add(address.port);
      ports.push(address.port);
    }
  } finally {
    await Promise.all(servers.map(close));
  }
  return ports;
}
