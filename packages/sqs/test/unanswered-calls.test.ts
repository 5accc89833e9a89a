import { randomBytes } from 'node:crypto';
import {
  describeSettled,
  type Settled,
  type SilentEndpoint,
  settleWithin,
  silentEndpoint,
  unreachableProblem,
  unreachableProblems,
} from '@bg/backends/silent-endpoint';
import type { ReceivedMessage } from '@bg/core';
import { type SqsAdapter, type SqsAdapterOptions, sqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CREDENTIALS, endpoint, skipReason } from './backend.js';

// An endpoint that accepts TCP and never answers used to hang every call for many minutes:
// the SDK only warned when its requestTimeout passed and kept waiting for a 15-minute socket
// timeout. Every call now fails with UNREACHABLE within a bounded time.

const endpoints: SilentEndpoint[] = [];
const adapters: SqsAdapter[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  // The endpoints first: a call still waiting (the old code) then fails, so close() can end.
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
  await Promise.all(adapters.splice(0).map((a) => a.close()));
});

async function silent(forwardTo?: string): Promise<SilentEndpoint> {
  const e = await silentEndpoint(forwardTo);
  endpoints.push(e);
  return e;
}

function adapterOn(url: string, options: SqsAdapterOptions): SqsAdapter {
  const a = sqsAdapter({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, ...options });
  adapters.push(a);
  return a;
}

/** Asserts that `settled` is a retryable UNREACHABLE, saying what happened otherwise. */
function expectUnreachable(what: string, settled: Settled): void {
  expect(unreachableProblem(what, settled), what).toBeUndefined();
}

describe('sqs calls to an endpoint that never answers', () => {
  it('stats, send, listQueues, queueExists, ensureQueue, receive and listDeadLetters fail with UNREACHABLE after callTimeoutMs', async () => {
    const server = await silent();
    const a = adapterOn(server.url, { callTimeoutMs: 1_000 });
    const problems = await unreachableProblems(a, { waitMs: 1_000, withinMs: 6_000, label: 'callTimeoutMs 1000' });
    expect(server.connections(), 'the calls never reached the silent endpoint').toBeGreaterThan(0);
    expect(problems, 'calls that did not fail with a retryable UNREACHABLE in time').toEqual([]);
  });

  it('the client the adapter makes aborts an unanswered attempt after requestTimeoutMs and prints no SDK warning', async () => {
    const warn = vi.spyOn(console, 'warn');
    const error = vi.spyOn(console, 'error');
    const server = await silent();
    // No call timeout: only the SDK client's own settings bound the call (2 attempts of 1 s).
    const a = adapterOn(server.url, { callTimeoutMs: 0, requestTimeoutMs: 1_000, maxAttempts: 2 });
    const settled = await settleWithin(a.stats('emails'), 8_000);
    expectUnreachable('stats with requestTimeoutMs 1000 and maxAttempts 2', settled);
    const printed = [...warn.mock.calls, ...error.mock.calls].map((args) => args.map(String).join(' '));
    expect(printed, 'the SDK printed to the console').toEqual([]);
  });

  it.skipIf(skipReason !== undefined)(
    "a worker's ack, extend and long poll fail with UNREACHABLE when SQS stops answering mid-way",
    async () => {
      const relay = await silent(endpoint());
      const a = adapterOn(relay.url, { callTimeoutMs: 1_000 });
      const queue = `t-${randomBytes(5).toString('hex')}`;
      await a.ensureQueue(queue);
      await a.send(queue, [
        { id: 'j1', body: 'one' },
        { id: 'j2', body: 'two' },
      ]);
      const got: ReceivedMessage[] = [];
      for (let round = 0; got.length < 2 && round < 10; round++) {
        got.push(...(await a.receive(queue, { max: 2, leaseMs: 30_000, waitMs: 1_000 })));
      }
      expect(got.map((m) => m.id).sort(), 'received through the relay before it went silent').toEqual(['j1', 'j2']);
      const [first, second] = got as [ReceivedMessage, ReceivedMessage];

      relay.silence();
      // The queue URL is cached: each of these is a single call that gets no answer.
      expectUnreachable('ack', await settleWithin(a.ack(queue, first.handle), 5_000));
      expectUnreachable('extend', await settleWithin(a.extend(queue, second.handle, 60_000), 5_000));
      // A long poll of 2 s gets 2 s more than callTimeoutMs: at most 3 s.
      const poll = await settleWithin(a.receive(queue, { max: 1, leaseMs: 5_000, waitMs: 2_000 }), 7_000);
      expectUnreachable('receive (waitMs 2000)', poll);
      expect(poll.ms, describeSettled('receive (waitMs 2000)', poll)).toBeLessThan(4_000);
    },
  );
});
