import { createHash, randomBytes } from 'node:crypto';
import { receiveUntil } from '@bg/backends';
import { type DeadLetterInfo, isBgError, type ReceivedMessage } from '@bg/core';
import { type SqsAdapter, type SqsAdapterOptions, sqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS, makeAdapter, skipReason } from './backend.js';

// Fixes of the second outside audit of @bg/sqs (one test per finding; each failed before its fix).

const opened: SqsAdapter[] = [];
function adapter(options: SqsAdapterOptions = {}): SqsAdapter {
  const a = makeAdapter(options);
  opened.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

function queueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

function construction(options: SqsAdapterOptions): { code: string; retryable: boolean; message: string } {
  try {
    opened.push(sqsAdapter({ region: 'us-east-1', credentials: CREDENTIALS, ...options }));
  } catch (error) {
    if (isBgError(error)) return { code: error.code, retryable: error.retryable, message: error.message };
    throw error;
  }
  return { code: 'ACCEPTED', retryable: false, message: 'accepted' };
}

describe('@bg/sqs audit round two: options', () => {
  it('checks region, endpoint and the numbers in clientConfig at construction (INVALID_ARGUMENT naming the option)', () => {
    const cases: [string, SqsAdapterOptions][] = [
      // The SDK refused it at every call, with a retryable BACKEND_ERROR.
      ['region', { region: 'us-east-1/x' }],
      // INVALID_ARGUMENT only at the first call.
      ['endpoint', { endpoint: 'not a url' }],
      // Node fires a timer above 2^31 - 1 ms after 1 ms: every call failed with UNREACHABLE at once.
      ['clientConfig.requestHandler.requestTimeout', { clientConfig: { requestHandler: { requestTimeout: 3e9 } } }],
      ['clientConfig.requestHandler.connectionTimeout', { clientConfig: { requestHandler: { connectionTimeout: -1 } } }],
      // Overrode the checked maxAttempts unchecked.
      ['clientConfig.maxAttempts', { clientConfig: { maxAttempts: 0 } }],
      ['clientConfig.maxAttempts', { clientConfig: { maxAttempts: Number.NaN } }],
    ];
    for (const [name, options] of cases) {
      const got = construction(options);
      expect(got, `sqsAdapter(${String(JSON.stringify(options))}) must be refused at construction: ${got.message}`).toMatchObject(
        {
          code: 'INVALID_ARGUMENT',
          retryable: false,
        },
      );
      expect(got.message, `sqsAdapter(${String(JSON.stringify(options))}): the error names the option`).toContain(name);
    }
    expect(construction({ endpoint: 'http://127.0.0.1:9324', region: 'eu-west-1' }).code, 'a good endpoint and region').toBe(
      'ACCEPTED',
    );
  });
});

describe.skipIf(skipReason !== undefined)('@bg/sqs audit round two (fauxqs)', () => {
  it('FIFO: different deduplication keys never drop each other as duplicates (a key and the SHA-256 hex of another; two lone surrogates)', async () => {
    const a = adapter({ fifo: true });
    const queue = queueName('dedup');
    await a.ensureQueue(queue);
    // A non-ASCII key was sent as the hex SHA-256 of its UTF-8, which is also a key SQS takes as it
    // is; and UTF-8 turned both lone surrogates into U+FFFD, one key.
    const german = 'schlüssel';
    const pairs: [string, string][] = [
      [german, createHash('sha256').update(german).digest('hex')],
      ['key-\uD800', 'key-\uDBFF'],
    ];
    const sent: string[] = [];
    for (const [n, [first, second]] of pairs.entries()) {
      for (const [i, key] of [first, second].entries()) {
        const id = `job-${n}-${i}`;
        const [result] = await a.send(queue, [{ id, body: `body ${id}`, deduplicationKey: key }]);
        expect(
          result,
          `send(${id}, deduplicationKey ${JSON.stringify(key)}): another key's job must not count as its duplicate`,
        ).toEqual({ id, duplicate: false });
        sent.push(id);
      }
    }
    const stored = (await receiveUntil(a, queue, sent.length)).map((m) => m.id).sort();
    expect(stored, 'every job with its own deduplication key is stored').toEqual(sent);
  });

  it('a body with a lone surrogate comes back as sent, live and dead-lettered (it came back with U+FFFD)', async () => {
    const a = adapter();
    const queue = queueName('lone');
    await a.ensureQueue(queue);
    const body = 'half an emoji: \uD83D, a low half \uDE00, then text';
    await a.send(queue, [{ id: 'lone', body }]);
    const [got] = await receiveUntil(a, queue, 1);
    expect(got?.body, 'receive() of a body holding lone surrogates returns it byte for byte').toBe(body);
    const info: DeadLetterInfo = { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() };
    await a.deadLetter(queue, got as ReceivedMessage, info);
    expect((await a.getDeadLetter(queue, 'lone'))?.body, 'the dead letter keeps the lone surrogates too').toBe(body);
  });

  it('a handle another instance released is LEASE_LOST on ack with ownershipMarginMs of 12 h (the documented remedy)', async () => {
    const queue = queueName('stale');
    const owner = adapter({ ownershipMarginMs: 43_200_000 });
    const other = adapter();
    await owner.ensureQueue(queue);
    await owner.send(queue, [{ id: 'job', body: 'b' }]);
    const [first] = await receiveUntil(owner, queue, 1);
    await other.release(queue, (first as ReceivedMessage).handle, 0);
    const [second] = await receiveUntil(other, queue, 1);
    expect(second?.deliveryCount, 'the other instance received the job again').toBe(2);
    const outcome = await owner.ack(queue, (first as ReceivedMessage).handle).then(
      () => 'acked',
      (error: unknown) => (isBgError(error) ? error.code : String(error)),
    );
    expect(outcome, 'ack() with the receipt another instance released and re-received must be LEASE_LOST').toBe('LEASE_LOST');
    await other.ack(queue, (second as ReceivedMessage).handle);
  });
});
