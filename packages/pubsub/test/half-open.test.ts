import { randomBytes } from 'node:crypto';
import type { Adapter } from '@bg/core';
import { isBgError } from '@bg/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { pubsubAdapter } from '../src/index.js';
import { type HalfOpenRelay, halfOpenRelay } from './half-open-relay.js';

// After a network fault the gRPC connection can be left half-open (its peer vanished without an
// RST: a NAT that forgot the flow, a failed-over host). The adapter's calls on it got no answer
// and failed with DEADLINE_EXCEEDED after timeoutMs, but the channel kept the dead connection:
// gRPC's keepalive (5 minutes) is the only thing that would notice, so for minutes every call
// failed although the network was back (the chaos harness's network-fault test shows a worker
// that never recovers after a heal). A timed-out call now renews the adapter's gRPC clients.

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');
const relays: HalfOpenRelay[] = [];
const adapters: Adapter[] = [];

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(adapters.splice(0).map((a) => a.close()));
});

describe.skipIf(!endpoint)('pubsub adapter after its connection went half-open', () => {
  it('fails the call that times out on the dead connection, then works again on a new one', async () => {
    const relay = await halfOpenRelay(endpoint);
    relays.push(relay);
    const adapter = pubsubAdapter({ projectId, apiEndpoint: relay.address, emulator: true, timeoutMs: 1_000 });
    adapters.push(adapter);
    const queue = `half-open-${randomBytes(4).toString('hex')}`;
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [{ id: 'before', body: 'sent before the fault' }]);
    expect(relay.strand(), 'no connection was open to strand').toBeGreaterThan(0);
    const failed = await adapter.stats(queue).then(
      () => 'resolved',
      (error: unknown) => (isBgError(error, 'UNREACHABLE') ? 'UNREACHABLE' : `other: ${String(error)}`),
    );
    expect(failed, 'the first call on the half-open connection').toBe('UNREACHABLE');
    // The network is back: a later call must not time out on the dead connection again.
    const outcomes: string[] = [];
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      const outcome = await adapter.send(queue, [{ id: `after-${i}`, body: 'x' }]).then(
        () => 'sent',
        (error: unknown) => `failed after ${Date.now() - start} ms: ${String((error as Error).message)}`,
      );
      outcomes.push(outcome);
      if (outcome === 'sent') break;
    }
    expect(outcomes.at(-1), `sends after the network came back: ${outcomes.join(' | ')}`).toBe('sent');
    expect(outcomes.length, `sends needed after the first timeout: ${outcomes.join(' | ')}`).toBe(1);
    const got = await adapter.receive(queue, { max: 10, leaseMs: 10_000, waitMs: 3_000 });
    expect(got.map((m) => m.id).sort(), 'jobs received after the renewal').toContain('before');
  });
});
