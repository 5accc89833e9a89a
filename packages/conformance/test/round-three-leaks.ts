import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import type { Adapter, ReceiveOptions } from '@bg/core';

/**
 * Resource leaks of the third mutation round ([r3-24] … [r3-26]): wrappers that leave a timer or a
 * socket behind `close()`, as an adapter author's client code does. They wrap any adapter, so the
 * same bug runs in the parent (`make`) and in the competing consumer processes
 * (`round-three-leak-child.ts`), where `delivery.competing-processes` looks for what outlives
 * `close()`.
 */
export type LeakKind = 'interval' | 'watchdog' | 'socket';

/** A local TCP server standing in for a backend (unref'd: it never keeps a process alive). */
let backend: Promise<number> | undefined;
function backendPort(): Promise<number> {
  backend ??= new Promise((resolve) => {
    const server = createServer((socket) => socket.on('error', () => {}));
    server.unref();
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return backend;
}

/** `inner` with one leak of `kind`; every other call is the inner adapter's. */
export function leaking(inner: Adapter, kind: LeakKind): Adapter {
  const out: Adapter = Object.assign(Object.create(inner) as Adapter, inner);
  if (kind === 'interval') {
    // A sweeper started by the factory; close() forgets clearInterval.
    setInterval(() => {}, 1_000);
    return out;
  }
  if (kind === 'watchdog') {
    // A watchdog per receive (waitMs + 30 s) that is cleared only when it fires.
    return Object.assign(out, {
      receive: (q: string, o: ReceiveOptions) => {
        const call = inner.receive(q, o);
        setTimeout(() => {}, (o.waitMs ?? 0) + 30_000);
        return call;
      },
    });
  }
  // A second connection for blocking long polls, opened by the factory; close() ends only the first.
  let blocking: Socket | undefined;
  const opened = backendPort().then((port) => {
    blocking = tcpConnect(port, '127.0.0.1');
    blocking.on('error', () => {});
  });
  return Object.assign(out, {
    ensureQueue: async (q: string) => {
      await opened;
      return inner.ensureQueue(q);
    },
    receive: async (q: string, o: ReceiveOptions) => {
      await opened;
      return inner.receive(q, o);
    },
    close: async () => {
      await opened;
      void blocking; // the bug: blocking?.destroy() is missing here
      return inner.close();
    },
  });
}
