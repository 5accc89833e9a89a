import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** How connections that were black-holed end when the proxy heals (see {@link FaultProxy.heal}). */
export type HeldOutcome = 'half-open' | 'reset';

/** Options of {@link FaultProxy.heal}. */
export interface HealOptions {
  /**
   * What becomes of connections that were black-holed: `half-open` (the default: their backend
   * side is closed, as by a server that went away, while the client's side stays open and silent
   * for ever: no byte, no FIN, no RST, so the client must time it out), or `reset` (both sides
   * get an RST, as from a failed-over host or a NAT that lost the mapping).
   */
  readonly held?: HeldOutcome;
}

/** What a {@link FaultProxy} has seen and done, for assertions and reports. */
export interface FaultProxyCounts {
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now (black-holed ones included). */
  readonly open: number;
  /** Connections ended with an RST by {@link FaultProxy.reset} or a mid-reply reset. */
  readonly resets: number;
  /** Connections left half-open by a heal. */
  readonly halfOpen: number;
  /** Bytes dropped while black-holed, both ways. */
  readonly droppedBytes: number;
}

/**
 * A TCP fault proxy on a free loopback port in front of one live backend: it forwards every
 * connection until told to break the network between its clients (the adapter under test) and
 * the backend. Faults are those of production networks:
 *
 * - {@link FaultProxy.blackHole}: packets dropped, no RST (a NAT or firewall timeout, a host
 *   that failed over): existing and new connections are accepted and kept open, nothing is
 *   forwarded either way and nothing is closed, so a client without timeouts waits for ever;
 * - {@link FaultProxy.reset}: every open connection ends with an RST, both sides;
 *   {@link FaultProxy.resetMidReply}: each open connection forwards half of the backend's next
 *   chunk, then ends with an RST (a reset in the middle of a reply);
 * - {@link FaultProxy.setLatency}: every chunk is delayed, each way, in order;
 * - {@link FaultProxy.heal}: forwarding resumes for new connections; black-holed ones become
 *   half-open (or are reset).
 *
 * Loopback only; it holds no data but what is in flight.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ host: '127.0.0.1', port: redisPort })
 * const adapter = redisAdapter({ url: `redis://${proxy.address}` })
 * proxy.blackHole() // … then proxy.heal()
 * await proxy.close()
 * ```
 */
export interface FaultProxy {
  /** `127.0.0.1` */
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>`: give it to the client instead of the backend's address. */
  readonly address: string;
  /** True while black-holing. */
  readonly blackHoled: boolean;
  /** Drops everything on every connection, open and new, and closes nothing (until {@link FaultProxy.heal}). */
  blackHole(): void;
  /** Forwards new connections again; see {@link HealOptions} for the black-holed ones. */
  heal(options?: HealOptions): void;
  /** Ends every open connection with an RST on both sides; returns how many. */
  reset(): number;
  /**
   * Arms every open connection to forward only the first half of the backend's next chunk and
   * then end with an RST on both sides; returns how many were armed.
   */
  resetMidReply(): number;
  /** Delays every chunk by `ms` each way from now on (0: none); chunks keep their order. */
  setLatency(ms: number): void;
  counts(): FaultProxyCounts;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Where a {@link FaultProxy} forwards to. */
export interface FaultProxyTarget {
  readonly host: string;
  readonly port: number;
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Black-holed: drops everything, closes nothing. Half-open links stay so for ever. */
  held: boolean;
  /** Forwards half of the next backend chunk, then resets. */
  resetArmed: boolean;
  /** Ended by the proxy (reset or heal): close events no longer propagate. */
  ended: boolean;
}

/**
 * Starts a {@link FaultProxy} forwarding to `target` (its own address is a free port on 127.0.0.1).
 */
export async function startFaultProxy(target: FaultProxyTarget): Promise<FaultProxy> {
  const links = new Set<Link>();
  const sockets = new Set<Socket>();
  let blackHoled = false;
  let latencyMs = 0;
  let accepted = 0;
  let resets = 0;
  let halfOpen = 0;
  let droppedBytes = 0;
  let closed = false;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };

  /** Writes `chunk` to `to` after the current latency (timers of one delay fire in order). */
  const deliver = (link: Link, to: Socket, chunk: Buffer): void => {
    const write = (): void => {
      if (link.held || link.ended || to.destroyed) return;
      to.write(chunk);
    };
    if (latencyMs > 0) setTimeout(write, latencyMs);
    else write();
  };

  const resetLink = (link: Link): void => {
    if (link.ended) return;
    link.ended = true;
    resets++;
    link.client.resetAndDestroy();
    link.upstream.resetAndDestroy();
  };

  const server: Server = createServer((client) => {
    accepted++;
    track(client);
    client.setNoDelay(true);
    const upstream = createConnection({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    track(upstream);
    const link: Link = { client, upstream, held: blackHoled, resetArmed: false, ended: false };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.held) droppedBytes += chunk.length;
      else deliver(link, upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (link.held) {
        droppedBytes += chunk.length;
        return;
      }
      if (link.resetArmed) {
        link.resetArmed = false;
        const half = chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2)));
        client.write(half, () => resetLink(link));
        return;
      }
      deliver(link, client, chunk);
    });
    // A close on one side is passed on (as a FIN or an RST would be), unless the link is held:
    // a black hole carries nothing, closes included.
    const passOn = (to: Socket, hadError: boolean): void => {
      if (link.held || link.ended) return;
      link.ended = true;
      if (hadError) to.resetAndDestroy();
      else if (latencyMs > 0) setTimeout(() => to.end(), latencyMs);
      else to.end();
    };
    client.on('close', (hadError) => {
      passOn(upstream, hadError);
      if (!link.held) links.delete(link);
    });
    upstream.on('close', (hadError) => {
      passOn(client, hadError);
      if (!link.held) links.delete(link);
    });
    client.on('end', () => passOn(upstream, false));
    upstream.on('end', () => passOn(client, false));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fault proxy has no TCP port');
  const port = address.port;

  const open = (): Link[] => [...links].filter((l) => !l.ended && !(l.client.destroyed && l.upstream.destroyed));

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    get blackHoled() {
      return blackHoled;
    },
    blackHole() {
      blackHoled = true;
      for (const link of open()) link.held = true;
    },
    heal(options = {}) {
      const held = options.held ?? 'half-open';
      blackHoled = false;
      for (const link of [...links]) {
        if (!link.held || link.ended) continue;
        if (held === 'reset') {
          resetLink(link);
          links.delete(link);
          continue;
        }
        // The backend's side goes away; the client's stays open, silent for ever.
        link.ended = true;
        halfOpen++;
        link.upstream.destroy();
      }
    },
    reset() {
      const now = open().filter((l) => !l.held);
      for (const link of now) resetLink(link);
      return now.length;
    },
    resetMidReply() {
      const now = open().filter((l) => !l.held);
      for (const link of now) link.resetArmed = true;
      return now.length;
    },
    setLatency(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be ≥ 0 ms, got ${ms}`);
      latencyMs = ms;
    },
    counts() {
      return { accepted, open: open().length, resets, halfOpen, droppedBytes };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      links.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
