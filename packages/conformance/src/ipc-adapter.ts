import type { ChildProcess } from 'node:child_process';
import { ADAPTER_CONTRACT_VERSION, type Adapter, BgError, type BgErrorCode, type Capabilities } from '@bg/core';

interface Call {
  readonly bg: 'call';
  readonly id: number;
  readonly method: string;
  readonly args: unknown[];
}
interface Reply {
  readonly bg: 'reply';
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { code: BgErrorCode; message: string; retryable: boolean };
}

const METHODS = [
  'ensureQueue',
  'send',
  'receive',
  'extend',
  'ack',
  'release',
  'deadLetter',
  'listDeadLetters',
  'getDeadLetter',
  'replayDeadLetter',
  'purgeDeadLetters',
  'stats',
] as const;

/**
 * Serves an in-process adapter to a child process over its IPC channel, so a worker in
 * the child can be killed while the backend (e.g. a memory store) lives on in the parent.
 * Returns a function that stops serving.
 */
export function serveAdapterOverIpc(child: ChildProcess, adapter: Adapter): () => void {
  const onMessage = (raw: unknown): void => {
    const call = raw as Call;
    if (call?.bg !== 'call' || !(METHODS as readonly string[]).includes(call.method)) return;
    const fn = (adapter as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[call.method] as (
      ...args: unknown[]
    ) => Promise<unknown>;
    fn.apply(adapter, call.args).then(
      (result) => reply({ bg: 'reply', id: call.id, result }),
      (error: unknown) =>
        reply({
          bg: 'reply',
          id: call.id,
          error: {
            code: (error as BgError).code ?? 'BACKEND_ERROR',
            message: String((error as Error).message ?? error),
            retryable: Boolean((error as BgError).retryable),
          },
        }),
    );
  };
  const reply = (message: Reply): void => {
    if (child.connected) child.send(message, () => {});
  };
  child.on('message', onMessage);
  return () => child.off('message', onMessage);
}

/**
 * The child side of {@link serveAdapterOverIpc}: an adapter whose calls go to the parent.
 * Long polls are cut into short waits (signals cannot cross the channel).
 */
export function ipcAdapter(capabilities: Capabilities): Adapter {
  if (!process.send) throw new BgError('UNSUPPORTED', 'ipcAdapter needs a process started with an IPC channel (fork)');
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  process.on('message', (raw: unknown) => {
    const message = raw as Reply;
    if (message?.bg !== 'reply') return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error)
      waiter.reject(new BgError(message.error.code, message.error.message, { retryable: message.error.retryable }));
    else waiter.resolve(message.result);
  });
  const call = (method: string, ...args: unknown[]): Promise<never> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      process.send?.({ bg: 'call', id, method, args } satisfies Call);
    });
  return {
    name: 'ipc',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,
    ensureQueue: (q) => call('ensureQueue', q),
    send: (q, m) => call('send', q, m),
    receive: (q, o) => call('receive', q, { max: o.max, leaseMs: o.leaseMs, waitMs: Math.min(o.waitMs ?? 0, 200) }),
    extend: (q, h, l) => call('extend', q, h, l),
    ack: (q, h) => call('ack', q, h),
    release: (q, h, d) => call('release', q, h, d),
    deadLetter: (q, m, i) => call('deadLetter', q, m, i),
    listDeadLetters: (q, o) => call('listDeadLetters', q, o),
    getDeadLetter: (q, id) => call('getDeadLetter', q, id),
    replayDeadLetter: (q, id) => call('replayDeadLetter', q, id),
    purgeDeadLetters: (q, ids) => call('purgeDeadLetters', q, ids),
    stats: (q) => call('stats', q),
    close: async () => {},
  };
}
