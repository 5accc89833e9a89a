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
});
