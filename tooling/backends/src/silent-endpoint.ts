import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { type Adapter, isBgError } from '@bg/core';

/**
 * A TCP endpoint on a free loopback port that accepts connections and never answers (a hung
 * server, a black-holing proxy): the failure under test, not a stand-in for the backend. With
 * `forwardTo`, it first relays every connection to that real endpoint, until `silence()`:
 * from then on nothing more is relayed either way, on open connections or new ones.
 */
export interface SilentEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Stops relaying: the endpoint no longer answers anything. */
  silence(): void;
  /** Destroys every connection (a call still waiting fails at once) and stops listening. */
  close(): Promise<void>;
}

export async function silentEndpoint(forwardTo?: string): Promise<SilentEndpoint> {
  const target = forwardTo === undefined ? undefined : new URL(forwardTo);
  let silent = target === undefined;
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server: Server = createServer((client) => {
    accepted++;
    track(client);
    if (target === undefined) return;
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    track(upstream);
    client.on('data', (chunk) => {
      if (!silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (!silent) client.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the silent endpoint has no TCP port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: () => accepted,
    silence: () => {
      silent = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** How a call ended, and after how long. */
export type Settled =
  | { readonly outcome: 'resolved'; readonly ms: number; readonly value: unknown }
  | { readonly outcome: 'rejected'; readonly ms: number; readonly error: unknown }
  | { readonly outcome: 'pending'; readonly ms: number };

/** Waits for `promise` at most `limitMs`: how it ended (or that it was still pending), and when. */
export async function settleWithin(promise: Promise<unknown>, limitMs: number): Promise<Settled> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), limitMs);
  });
  try {
    const outcome = await Promise.race([
      promise.then(
        (value) => ({ outcome: 'resolved' as const, value }),
        (error: unknown) => ({ outcome: 'rejected' as const, error }),
      ),
      late,
    ]);
    const ms = Date.now() - start;
    return outcome === 'pending' ? { outcome, ms } : { ...outcome, ms };
  } finally {
    clearTimeout(timer);
  }
}

/** One line saying how a call settled, for assertion messages. */
export function describeSettled(what: string, settled: Settled): string {
  switch (settled.outcome) {
    case 'pending':
      return `${what} was still waiting after ${settled.ms} ms (it should have failed with UNREACHABLE)`;
    case 'resolved':
      return `${what} resolved after ${settled.ms} ms against an endpoint that never answers`;
    case 'rejected': {
      const e = settled.error as { code?: unknown; message?: unknown };
      return `${what} rejected after ${settled.ms} ms with ${String(e?.code)}: ${String(e?.message ?? settled.error)}`;
    }
  }
}

/**
 * Every call of the adapter contract a worker or an operator makes with no lease in hand, each
 * named, for a test that points an adapter at a {@link silentEndpoint}: `receive` long-polls for
 * `waitMs`. Optional calls the adapter lacks reject with a plain `Error` (the test then says so).
 */
export function unansweredCalls(adapter: Adapter, waitMs: number): readonly (readonly [string, () => Promise<unknown>])[] {
  const lacks = (name: string) => Promise.reject(new Error(`the adapter has no ${name}`));
  return [
    ['stats', () => adapter.stats('emails')],
    ['send', () => adapter.send('emails', [{ id: 'j1', body: 'hello' }])],
    ['listQueues', () => adapter.listQueues?.() ?? lacks('listQueues')],
    ['queueExists', () => adapter.queueExists?.('emails') ?? lacks('queueExists')],
    ['ensureQueue', () => adapter.ensureQueue('emails')],
    ['receive', () => adapter.receive('emails', { max: 1, leaseMs: 5_000, waitMs })],
    ['listDeadLetters', () => adapter.listDeadLetters('emails')],
  ];
}

/**
 * What is wrong with a call's outcome when it should have failed with a retryable
 * `UNREACHABLE`: `undefined` when it did, else a sentence naming the call and what it did.
 */
export function unreachableProblem(what: string, settled: Settled): string | undefined {
  const told = describeSettled(what, settled);
  if (settled.outcome !== 'rejected') return told;
  if (!isBgError(settled.error, 'UNREACHABLE')) return `${told} (expected UNREACHABLE)`;
  if ((settled.error as { retryable?: unknown }).retryable !== true) return `${told} (should be retryable)`;
  return undefined;
}

/**
 * Runs every {@link unansweredCalls} call of `adapter` at once, each given `withinMs` to settle,
 * and returns what went wrong (see {@link unreachableProblem}; `label` is added to each): `[]`
 * when every call failed with a retryable `UNREACHABLE` in time.
 */
export async function unreachableProblems(
  adapter: Adapter,
  options: { readonly waitMs: number; readonly withinMs: number; readonly label: string },
): Promise<string[]> {
  const calls = unansweredCalls(adapter, options.waitMs);
  const settled = await Promise.all(calls.map(([, call]) => settleWithin(call(), options.withinMs)));
  return calls.flatMap(([what], i) => unreachableProblem(`${what} (${options.label})`, settled[i] as Settled) ?? []);
}

/**
 * Runs `ack`, `extend` and `release` of a lease in hand (`handle` on `queue`) one after another,
 * each given `withinMs` to settle, and returns what went wrong (see {@link unreachableProblem};
 * `label` is added to each): `[]` when each failed with a retryable `UNREACHABLE` in time.
 */
export async function leaseCallProblems(
  adapter: Adapter,
  queue: string,
  handle: string,
  options: { readonly withinMs: number; readonly label: string },
): Promise<string[]> {
  const problems: string[] = [];
  for (const [what, call] of [
    ['ack', () => adapter.ack(queue, handle)],
    ['extend', () => adapter.extend(queue, handle, 30_000)],
    ['release', () => adapter.release(queue, handle, 0)],
  ] as const) {
    const problem = unreachableProblem(`${what} (${options.label})`, await settleWithin(call(), options.withinMs));
    if (problem) problems.push(problem);
  }
  return problems;
}
