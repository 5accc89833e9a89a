import { describe, expect, it } from 'vitest';
import { type CallOutcomes, forwarding, type Pair, renewalDue } from '../src/clients.js';

// A call that times out renews the adapter's gRPC clients (a new connection) when the
// connection may be dead (half-open.test.ts proves that against the emulator), but not when the
// server answered another call on it since the timed-out call began: the connection lives, and
// the server was only slow with that call. The decision, and what the forwarding proxy reports
// of each call to make it, are checked here (the emulator answers every call at once, so it
// cannot show a slow call on a live connection).

describe('renewalDue', () => {
  it('is due only when the pair got no answer since the timed-out call began', () => {
    expect(renewalDue(100, undefined), 'never answered').toBe(true);
    expect(renewalDue(100, 50), 'last answered before the call began').toBe(true);
    expect(renewalDue(100, 150), 'answered another call meanwhile').toBe(false);
  });
});

describe('forwarding (the stand-in client that reports what happened to each call)', () => {
  const grpcError = (code: number) => Object.assign(new Error(`grpc ${code}`), { code });

  it('reports answers (results and errors the server sent) and timeouts with when the call began, for the pair it ran on', async () => {
    const events: string[] = [];
    let startedAt = -1;
    const outcomes: CallOutcomes = {
      answered: (pair) => events.push(`answered ${pair === first ? 'first' : 'other'}`),
      timedOut: (pair, at) => {
        startedAt = at;
        events.push(`timed out ${pair === first ? 'first' : 'other'}`);
      },
    };
    const replies: Record<string, () => Promise<unknown>> = {
      getTopic: () => Promise.resolve({ name: 't' }),
      notFound: () => Promise.reject(grpcError(5)),
      slow: () => Promise.reject(grpcError(4)),
      unavailable: () => Promise.reject(grpcError(14)),
    };
    const first = { publisher: replies, subscriber: {} } as unknown as Pair;
    const publisher = forwarding(() => first, 'publisher', outcomes) as unknown as Record<string, () => Promise<unknown>>;
    const before = performance.now();
    for (const name of ['getTopic', 'notFound', 'slow', 'unavailable']) await publisher[name]?.().catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events, 'outcomes reported for getTopic (ok), NOT_FOUND, DEADLINE_EXCEEDED, UNAVAILABLE').toEqual([
      'answered first',
      'answered first',
      'timed out first',
    ]);
    expect(startedAt, 'the timed-out call reports when it began').toBeGreaterThanOrEqual(before);
  });

  it('gives the caller the result or the failure unchanged', async () => {
    const outcomes: CallOutcomes = { answered: () => {}, timedOut: () => {} };
    const pair = {
      publisher: { ok: () => Promise.resolve(42), bad: () => Promise.reject(grpcError(4)) },
      subscriber: {},
    } as unknown as Pair;
    const publisher = forwarding(() => pair, 'publisher', outcomes) as unknown as Record<string, () => Promise<unknown>>;
    expect(await publisher.ok?.(), 'a result').toBe(42);
    await expect(publisher.bad?.(), 'a failure').rejects.toMatchObject({ code: 4 });
  });
});
