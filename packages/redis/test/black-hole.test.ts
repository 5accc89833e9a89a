import { randomBytes } from 'node:crypto';
import {
  leaseCallProblems,
  type SilentEndpoint,
  settleWithin,
  silentEndpoint,
  unreachableProblems,
} from '@bg/backends/silent-endpoint';
import { type RedisAdapter, redisAdapter } from '@bg/redis';
import { afterEach, describe, expect, inject, it } from 'vitest';

// A network that black-holes a live connection (a NAT or firewall timeout, a failed-over host:
// packets dropped, no RST) used to hang every call for ever: ioredis had no timeout on a
// connection that stays open and silent, so a worker never noticed, `close()` waited for ever on
// its QUIT, and the client never reconnected after the network came back (the chaos harness's
// network-fault test shows the last). `commandTimeoutMs` now takes such a connection for dead.

const url = inject('redisUrl');
const relays: SilentEndpoint[] = [];
const adapters: RedisAdapter[] = [];

afterEach(async () => {
  // The relays first: a call still waiting (the old code) then fails, so close() can end.
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(adapters.splice(0).map((a) => settleWithin(a.close(), 5_000)));
});

async function blackHoledAdapter(
  commandTimeoutMs: number,
): Promise<{ adapter: RedisAdapter; relay: SilentEndpoint; queue: string }> {
  const relay = await silentEndpoint(url?.replace(/^redis:/, 'http:'));
  relays.push(relay);
  const adapter = redisAdapter({
    url: relay.url.replace(/^http:/, 'redis:'),
    prefix: 'hole',
    commandTimeoutMs,
    onWarning: () => {},
  });
  adapters.push(adapter);
  const queue = `q-${randomBytes(4).toString('hex')}`;
  await adapter.ensureQueue(queue);
  return { adapter, relay, queue };
}

describe.skipIf(!url)('@bg/redis on a black-holed connection', () => {
  it('every call fails with a retryable UNREACHABLE within commandTimeoutMs, and so do ack and extend of a lease in hand', async () => {
    const { adapter, relay, queue } = await blackHoledAdapter(1_000);
    await adapter.send(queue, [{ id: 'j1', body: 'one' }]);
    const [m] = await adapter.receive(queue, { max: 1, leaseMs: 60_000 });
    if (!m) throw new Error('the job sent before the black hole was not received');
    relay.silence();
    const problems = await unreachableProblems(adapter, { waitMs: 500, withinMs: 5_000, label: 'commandTimeoutMs 1000' });
    problems.push(...(await leaseCallProblems(adapter, queue, m.handle, { withinMs: 5_000, label: 'commandTimeoutMs 1000' })));
    expect(problems, 'calls that did not fail with a retryable UNREACHABLE in time on a black-holed connection').toEqual([]);
  });

  it('close() on a black-holed connection resolves promptly instead of waiting for ever on QUIT', async () => {
    const { adapter, relay, queue } = await blackHoledAdapter(60_000);
    await adapter.stats(queue);
    relay.silence();
    const closed = await settleWithin(adapter.close(), 4_000);
    expect(closed.outcome, `close() on a black-holed connection: ${closed.outcome} after ${closed.ms} ms`).toBe('resolved');
  });
});
