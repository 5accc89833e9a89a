import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../src/index.js';

/** The code of what `fn` throws or rejects with, or "accepted". */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    const e = error as { code?: string; retryable?: boolean };
    if (e.code === undefined) return `not a BgError: ${String(error)}`;
    return e.retryable ? `${e.code} (retryable!)` : e.code;
  }
}

describe('the memory adapter (and the kit under every adapter) refuses bad arguments with INVALID_ARGUMENT', () => {
  it('receive with a signal that is not an AbortSignal (it crashed the process) or a wait beyond a timer', async () => {
    const adapter = memoryAdapter();
    await adapter.ensureQueue('bad-input');
    for (const options of [
      { max: 1, leaseMs: 1_000, waitMs: 10, signal: {} },
      { max: 1, leaseMs: 1_000, waitMs: 1e20 },
    ]) {
      expect(await codeOf(() => adapter.receive('bad-input', options as never)), `receive ${JSON.stringify(options)}`).toBe(
        'INVALID_ARGUMENT',
      );
    }
    await adapter.close();
  });

  it('dead-letter calls: options that are not an object, ids that are not an array of strings, a null message', async () => {
    const adapter = memoryAdapter();
    await adapter.ensureQueue('bad-input');
    expect(await codeOf(() => adapter.listDeadLetters('bad-input', null as never)), 'listDeadLetters(q, null)').toBe(
      'INVALID_ARGUMENT',
    );
    for (const ids of ['0190a0b0-c0d0-7e00-8000-000000000001', 5, {}, [5]]) {
      expect(
        await codeOf(() => adapter.purgeDeadLetters('bad-input', ids as never)),
        `purgeDeadLetters(q, ${JSON.stringify(ids)})`,
      ).toBe('INVALID_ARGUMENT');
    }
    expect(await codeOf(() => adapter.purgeDeadLetters('bad-input', [])), 'purgeDeadLetters(q, [])').toBe('accepted');
    expect(await codeOf(() => adapter.send('bad-input', [null as never])), 'send(q, [null])').toBe('INVALID_ARGUMENT');
    await adapter.close();
  });

  it('deadLetter without a delivery or without a reason (a TypeError before), whatever the lease', async () => {
    const adapter = memoryAdapter();
    await adapter.ensureQueue('bad-input');
    await adapter.send('bad-input', [{ id: '0190a0b0-c0d0-7e00-8000-000000000001', body: '{}' }]);
    const [delivery] = await adapter.receive('bad-input', { max: 1, leaseMs: 60_000 });
    if (delivery === undefined) throw new Error('receive gave nothing after a send');
    const info = { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() } as const;
    expect(await codeOf(() => adapter.deadLetter('bad-input', undefined as never, info)), 'deadLetter(q, undefined, info)').toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(() => adapter.deadLetter('bad-input', delivery, undefined as never)), 'deadLetter(q, m, undefined)').toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await codeOf(() => adapter.deadLetter('bad-input', delivery, { ...info, reason: 'because' as never })),
      'deadLetter with a reason not in DEAD_LETTER_REASONS',
    ).toBe('INVALID_ARGUMENT');
    expect((await adapter.listDeadLetters('bad-input')).items, 'nothing was dead-lettered by the refused calls').toEqual([]);
    expect(await codeOf(() => adapter.deadLetter('bad-input', delivery, info)), 'the same delivery with good info').toBe(
      'accepted',
    );
    await adapter.close();
  });

  it('a lease handle that is not one is named briefly: a 1 MB handle is not echoed', async () => {
    const adapter = memoryAdapter();
    await adapter.ensureQueue('bad-input');
    const error = await adapter.ack('bad-input', 'x'.repeat(1_000_000)).catch((e: unknown) => e);
    expect((error as { code?: string }).code, 'ack of a non-handle').toBe('INVALID_ARGUMENT');
    expect((error as Error).message, 'the message describes the handle, it does not repeat it').toBe(
      'not a lease handle of the memory adapter: a string of 1000000 characters',
    );
    await adapter.close();
  });

  it('capabilities overrides must be whole numbers of a known limit (a NaN limit let everything through)', () => {
    for (const capabilities of [
      { maxPayloadBytes: Number.NaN },
      { maxBatchSize: 0 },
      { maxLeaseMs: '60000' },
      { maxDelayMs: -1 },
      { durable: true },
      'small',
    ]) {
      expect(
        () => memoryAdapter({ capabilities: capabilities as never }),
        `memoryAdapter({ capabilities: ${JSON.stringify(capabilities)} })`,
      ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', retryable: false }));
    }
    const adapter = memoryAdapter({ capabilities: { maxBatchSize: 5, maxDelayMs: 0, maxPayloadBytes: undefined } });
    expect(adapter.capabilities.maxBatchSize, 'a lowered limit is kept').toBe(5);
    expect(adapter.capabilities.maxPayloadBytes, 'an undefined override keeps the default').toBe(1024 * 1024);
  });
});
