import { randomBytes } from 'node:crypto';
import {
  leaseCallProblems,
  type SilentEndpoint,
  settleWithin,
  silentEndpoint,
  unreachableProblems,
} from '@bg/backends/silent-endpoint';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, postgresAdapter } from '../src/index.js';

// A network that black-holes live connections (a NAT or firewall timeout, a failed-over host:
// packets dropped, no RST) used to hang every query on them for ever: node-postgres has no
// client-side timeout by default, so a worker's calls never failed, the pool's connections stayed
// busy with queries that never end (after the network came back nothing worked without a restart:
// the chaos harness's network-fault test shows it), and close() waited for ever on them and on
// the LISTEN connection. `queryTimeoutMs` now bounds every query of the adapter's pool.

const url = inject('pgUrl');
const relays: SilentEndpoint[] = [];
const adapters: PostgresAdapter[] = [];

afterEach(async () => {
  // The relays first: a query still waiting (the old code) then fails, so close() can end.
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(adapters.splice(0).map((a) => settleWithin(a.close(), 5_000)));
});

/** An adapter whose connections pass through a relay that can go silent, on a fresh queue. */
async function relayedAdapter(
  queryTimeoutMs: number,
): Promise<{ adapter: PostgresAdapter; relay: SilentEndpoint; queue: string }> {
  const target = new URL(url as string);
  const relay = await silentEndpoint(`http://${target.host}`);
  relays.push(relay);
  const via = new URL(url as string);
  via.host = new URL(relay.url).host;
  const adapter = postgresAdapter({ url: via.href, schema: 'black_hole', queryTimeoutMs, connectTimeoutMs: 1_000 });
  adapters.push(adapter);
  const queue = `q-${randomBytes(4).toString('hex')}`;
  await adapter.ensureQueue(queue);
  return { adapter, relay, queue };
}

describe.skipIf(!url)('postgres adapter on a black-holed network', () => {
  it('every call fails with a retryable UNREACHABLE within queryTimeoutMs, the ack, extend and release of a lease in hand too', async () => {
    const { adapter, relay, queue } = await relayedAdapter(1_000);
    await adapter.send(queue, [{ id: 'j1', body: 'one' }]);
    const [m] = await adapter.receive(queue, { max: 1, leaseMs: 60_000 });
    if (!m) throw new Error('the job sent before the black hole was not received');
    relay.silence();
    const problems = await unreachableProblems(adapter, { waitMs: 500, withinMs: 5_000, label: 'queryTimeoutMs 1000' });
    problems.push(...(await leaseCallProblems(adapter, queue, m.handle, { withinMs: 5_000, label: 'queryTimeoutMs 1000' })));
    expect(problems, 'calls that did not fail with a retryable UNREACHABLE in time on a black-holed network').toEqual([]);
  });

  it('close() resolves promptly on a black-holed network, with an ack in flight and the LISTEN connection up', async () => {
    const { adapter, relay, queue } = await relayedAdapter(1_000);
    await adapter.send(queue, [{ id: 'j1', body: 'one' }]);
    const [m] = await adapter.receive(queue, { max: 1, leaseMs: 60_000 });
    if (!m) throw new Error('the job sent before the black hole was not received');
    // An empty waiting receive makes the LISTEN connection.
    expect(await adapter.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 300 })).toEqual([]);
    relay.silence();
    const acking = adapter.ack(queue, m.handle).catch(() => {});
    const closed = await settleWithin(adapter.close(), 5_000);
    expect(closed.outcome, `close() on a black-holed network: ${closed.outcome} after ${closed.ms} ms`).toBe('resolved');
    await acking;
  });
});
