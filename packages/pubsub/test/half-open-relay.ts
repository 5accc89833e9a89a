import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP relay on a free loopback port to a real endpoint, for the half-open case: `strand()`
 * turns every connection open now into a half-open one (nothing is relayed on it either way
 * again, and nothing closes it: the peer vanished without an RST), while new connections are
 * relayed as before (the network is back). The failure under test, not a stand-in for Pub/Sub.
 */
export interface HalfOpenRelay {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Strands every open connection; returns how many. */
  strand(): number;
  close(): Promise<void>;
}

/** Starts a {@link HalfOpenRelay} to `target` (`host:port`). */
export async function halfOpenRelay(target: string): Promise<HalfOpenRelay> {
  const [host, port] = target.split(':');
  const open = new Set<{ stranded: boolean; client: Socket; upstream: Socket }>();
  const sockets = new Set<Socket>();
  let accepted = 0;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    accepted++;
    const upstream = createConnection({ host, port: Number(port) });
    track(client);
    track(upstream);
    const link = { stranded: false, client, upstream };
    open.add(link);
    client.on('data', (chunk) => {
      if (!link.stranded) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!link.stranded) client.write(chunk);
    });
    client.on('close', () => {
      if (!link.stranded) upstream.destroy();
      open.delete(link);
    });
    upstream.on('close', () => {
      if (!link.stranded) client.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no TCP port');
  return {
    address: `127.0.0.1:${address.port}`,
    connections: () => accepted,
    strand() {
      let n = 0;
      for (const link of open) {
        if (link.stranded) continue;
        link.stranded = true;
        link.upstream.destroy();
        n++;
      }
      return n;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
