/**
 * The lease table was keyed by receipt only: an ack naming the wrong queue took the fast path and
 * "succeeded" (fauxqs accepts an unknown receipt on DeleteMessage) and marked the receipt acked;
 * the right ack then returned at once as "a second ack" and the job was never removed (failed
 * before the fix, 2026-12-03).
 */
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { isBgError, type ReceivedMessage } from '@bg/core';
import type { SqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAdapter, rawClient, skipReason } from './backend.js';

const opened: SqsAdapter[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

async function inFlightAndReady(name: string): Promise<number> {
  const c = rawClient();
  try {
    const { QueueUrl } = await c.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes: a = {} } = await c.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  } finally {
    c.destroy();
  }
}

describe.skipIf(skipReason !== undefined)('@bg/sqs: leases are known per queue', () => {
  it('an ack with the right queue removes the job even after an ack naming another queue', async () => {
    const a = makeAdapter();
    opened.push(a);
    const qa = `rvx-a-${randomBytes(4).toString('hex')}`;
    const qb = `rvx-b-${randomBytes(4).toString('hex')}`;
    await a.ensureQueue(qa);
    await a.ensureQueue(qb);
    await a.send(qa, [{ id: 'job-a', body: 'a' }]);
    const got: ReceivedMessage[] = [];
    for (let i = 0; i < 20 && got.length === 0; i++)
      got.push(...(await a.receive(qa, { max: 1, leaseMs: 60_000, waitMs: 1_000 })));
    const handle = (got[0] as ReceivedMessage).handle;

    // A mistaken ack naming queue B: it removed nothing (job-a lives in A).
    const wrong = await a.ack(qb, handle).then(
      () => 'resolved',
      (e: unknown) => (isBgError(e) ? e.code : String(e)),
    );
    expect(await inFlightAndReady(a.sqsQueueName(qa)), 'the wrong-queue ack removed nothing from A').toBe(1);

    // The correct ack must now remove the job (or at least not report success while it stays).
    const right = await a.ack(qa, handle).then(
      () => 'resolved',
      (e: unknown) => (isBgError(e) ? e.code : String(e)),
    );
    const left = await inFlightAndReady(a.sqsQueueName(qa));
    expect({ wrong, right, left }, 'ack(B, handle of A), then ack(A, handle): the second removes the job').toEqual({
      wrong: 'LEASE_LOST', // a receipt not known on B: its ownership check there fails
      right: 'resolved',
      left: 0,
    });
  });
});
