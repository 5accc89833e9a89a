import { describe, expect, it } from 'vitest';
import { partialSendError } from '../src/adapter/partial-send-error.js';
import type { OutgoingMessage, SendResult } from '../src/adapter.js';
import { BgError, isBgError } from '../src/errors.js';
import { sendInBatches } from '../src/send-batches.js';

const messages = (n: number, orderingKey?: string): OutgoingMessage[] =>
  Array.from({ length: n }, (_, i) => ({ id: `m${i}`, body: '{}', ...(orderingKey ? { orderingKey } : {}) }));
const stored = (batch: readonly OutgoingMessage[]): SendResult[] => batch.map((m) => ({ id: m.id, duplicate: false }));
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A send whose calls stay pending until the test settles them. */
function pendingSends() {
  const calls: { batch: OutgoingMessage[]; ok: () => void; fail: (e: unknown) => void }[] = [];
  let inFlight = 0;
  let most = 0;
  const send = (batch: OutgoingMessage[]): Promise<SendResult[]> =>
    new Promise((resolve, reject) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const done = () => inFlight--;
      calls.push({
        batch,
        ok: () => {
          done();
          resolve(stored(batch));
        },
        fail: (e) => {
          done();
          reject(e);
        },
      });
    });
  return { send, calls, most: () => most };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('sendInBatches', () => {
  it('keeps up to `lanes` batches in flight and returns the results in input order', async () => {
    const s = pendingSends();
    const all = sendInBatches(s.send, messages(25), { adapter: 'x', maxBatchSize: 5, lanes: 3 });
    await tick();
    expect(s.calls.length, 'batches started at once with 3 lanes').toBe(3);
    // Settle out of order: the third, then the first, then the rest as they come.
    s.calls[2]?.ok();
    s.calls[0]?.ok();
    for (let i = 1; i < 5; i++) {
      await tick();
      for (const c of s.calls) c.ok();
    }
    const results = await all;
    expect(s.most(), 'never more than 3 batches in flight').toBe(3);
    expect(results.map((r) => r.id)).toEqual(messages(25).map((m) => m.id));
  });

  it('sends one batch at a time, in order, when a message has an ordering key', async () => {
    const s = pendingSends();
    const all = sendInBatches(s.send, messages(12, 'k'), { adapter: 'x', maxBatchSize: 5, lanes: 8 });
    for (let i = 0; i < 3; i++) {
      await tick();
      expect(s.calls.length, `batch ${i + 1} starts only after batch ${i} was stored`).toBe(i + 1);
      s.calls[i]?.ok();
    }
    await all;
    expect(s.most(), 'ordered batches never overlap').toBe(1);
    expect(s.calls.map((c) => c.batch[0]?.id)).toEqual(['m0', 'm5', 'm10']);
  });

  it('rethrows the adapter’s own error when nothing was stored', async () => {
    const cause = new BgError('UNREACHABLE', 'down', { retryable: true });
    const s = pendingSends();
    const all = errorOf(sendInBatches(s.send, messages(10), { adapter: 'x', maxBatchSize: 5, lanes: 1 }));
    await tick();
    s.calls[0]?.fail(cause);
    expect(await all, 'the first batch failed, nothing was stored: the error is the adapter’s').toBe(cause);
    expect(s.calls.length, 'no batch starts after a failure').toBe(1);
  });

  it('names every stored and unstored id of the call when a later batch fails', async () => {
    const s = pendingSends();
    const all = errorOf(sendInBatches(s.send, messages(15), { adapter: 'x', maxBatchSize: 5, lanes: 1 }));
    await tick();
    s.calls[0]?.ok();
    await tick();
    s.calls[1]?.fail(new BgError('TIMEOUT', 'timed out', { retryable: true }));
    const error = await all;
    expect(isBgError(error, 'TIMEOUT'), `the failing batch's code is kept: ${String(error)}`).toBe(true);
    expect((error as BgError).retryable).toBe(true);
    const details = (error as BgError).details as { sentIds: string[]; failedIds: string[] };
    expect(details.sentIds, 'the first batch was stored').toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(details.failedIds, 'the failing batch and the one never sent').toEqual(
      messages(15)
        .slice(5)
        .map((m) => m.id),
    );
    expect(s.calls.length, 'the third batch never started').toBe(2);
  });

  it('uses the failed ids of an adapter’s own partial-send error inside a batch', async () => {
    const s = pendingSends();
    const all = errorOf(sendInBatches(s.send, messages(10), { adapter: 'x', maxBatchSize: 5, lanes: 1 }));
    await tick();
    s.calls[0]?.ok();
    await tick();
    const batch = s.calls[1]?.batch ?? [];
    s.calls[1]?.fail(partialSendError('x', batch, [{ id: 'm7', code: 'Too big' }]));
    const details = ((await all) as BgError).details as { sentIds: string[]; failedIds: string[] };
    expect(details.failedIds, 'only m7 of the second batch was refused').toEqual(['m7']);
    expect(details.sentIds).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm8', 'm9']);
  });

  it('sends a call within one batch as one send, errors untouched', async () => {
    const cause = new BgError('PAYLOAD_TOO_LARGE', 'too big', { retryable: false });
    let calls = 0;
    const error = await errorOf(
      sendInBatches(
        async () => {
          calls++;
          throw cause;
        },
        messages(5),
        { adapter: 'x', maxBatchSize: 5 },
      ),
    );
    expect(error).toBe(cause);
    expect(calls).toBe(1);
  });
});
