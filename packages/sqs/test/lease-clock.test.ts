/**
 * The lease table measured leases with the wall clock: a clock stepped back (an NTP correction, a
 * VM resumed) made a lease that ran out look held, and ack() deleted with a stale receipt without
 * proving ownership: it resolved although nothing was removed (failed before the fix, 2026-12-03).
 */
import { randomBytes } from 'node:crypto';
import { isBgError, type ReceivedMessage } from '@bg/core';
import type { SqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeAdapter, skipReason } from './backend.js';

const opened: SqsAdapter[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

describe.skipIf(skipReason !== undefined)('@bg/sqs: leases on the monotonic clock', () => {
  it('an ack after the lease ran out is LEASE_LOST even when the wall clock stepped back', async () => {
    const a = makeAdapter();
    const b = makeAdapter();
    opened.push(a, b);
    const q = `rvc-${randomBytes(4).toString('hex')}`;
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'j', body: 'b' }]);
    const got: ReceivedMessage[] = [];
    for (let i = 0; i < 20 && got.length === 0; i++) got.push(...(await a.receive(q, { max: 1, leaseMs: 1_000, waitMs: 1_000 })));
    const stale = got[0] as ReceivedMessage;
    // The lease runs out; another consumer receives the job.
    const again: ReceivedMessage[] = [];
    for (let i = 0; i < 20 && again.length === 0; i++)
      again.push(...(await b.receive(q, { max: 1, leaseMs: 30_000, waitMs: 1_000 })));
    expect(again[0]?.deliveryCount, 'the other consumer receives the job again').toBe(2);
    // The host's clock is stepped back by a minute.
    vi.setSystemTime(Date.now() - 60_000);
    const outcome = await a.ack(q, stale.handle).then(
      () => 'resolved',
      (e: unknown) => (isBgError(e) ? e.code : String(e)),
    );
    vi.useRealTimers();
    expect(outcome, 'ack with the receipt of a delivery another consumer now holds').toBe('LEASE_LOST');
    await b.ack(q, (again[0] as ReceivedMessage).handle);
  });
});
