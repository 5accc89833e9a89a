import { describe, expect, it } from 'vitest';
import {
  AdapterCalls,
  BgError,
  capabilitiesWith,
  type DeadLetter,
  type DeadLetterPosition,
  decodeDeadLetterCursor,
  isBgError,
  readDeadLetterPage,
  STORE_CAPABILITIES,
} from '../../src/adapter/index.js';

/** A `map-error.ts`: a BgError as it is, anything else a BACKEND_ERROR naming the call. */
const mapped = (error: unknown, during: string): BgError =>
  isBgError(error) ? error : new BgError('BACKEND_ERROR', `${during}: ${String(error)}`, { retryable: true });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isBgError(error) ? error.code : `not a BgError: ${String(error)}`;
  }
}

describe('AdapterCalls', () => {
  it('maps a failing call through the adapter mapping, naming the call', async () => {
    const calls = new AdapterCalls('demo', mapped);
    const error = await calls.onQueue('jobs', 'send', () => Promise.reject(new Error('boom'))).catch((e: unknown) => e);
    expect(isBgError(error, 'BACKEND_ERROR'), `onQueue rejected with ${String(error)}`).toBe(true);
    expect((error as BgError).message, 'the mapping got the call name').toContain('send: Error: boom');
  });

  it('checks the queue name before running the call', async () => {
    const calls = new AdapterCalls('demo', mapped);
    let ran = false;
    const code = await codeOf(
      calls.onQueue('bad name!', 'send', async () => {
        ran = true;
      }),
    );
    expect(code, 'a bad queue name').toBe('INVALID_ARGUMENT');
    expect(ran, 'the call must not run on a bad queue name').toBe(false);
  });

  it('refuses calls after close and reports a call cut short by close as CLOSED', async () => {
    const calls = new AdapterCalls('demo', mapped);
    let fail: (error: Error) => void = () => {};
    const pending = calls.run('listQueues', () => new Promise((_, reject) => (fail = reject)));
    expect(calls.guard.close(), 'the first close').toBe(true);
    fail(new Error('pool ended'));
    expect(await codeOf(pending), 'a call whose connection close() ended').toBe('CLOSED');
    expect(await codeOf(calls.run('listQueues', async () => 1)), 'a call after close').toBe('CLOSED');
    const own = new BgError('LEASE_LOST', 'gone', { retryable: false });
    expect(calls.failure(own, 'ack'), 'a BgError passes through even after close').toBe(own);
  });
});

describe('capabilitiesWith and STORE_CAPABILITIES', () => {
  it('overrides only defined values and freezes the copy', () => {
    const caps = capabilitiesWith(STORE_CAPABILITIES, { maxPayloadBytes: 2048, durable: undefined });
    expect(caps.maxPayloadBytes, 'a defined override').toBe(2048);
    expect(caps.durable, 'an undefined override keeps the base value').toBe(STORE_CAPABILITIES.durable);
    expect(Object.isFrozen(caps), 'the copy is frozen').toBe(true);
    expect(STORE_CAPABILITIES.maxPayloadBytes, 'the base is untouched').toBe(1024 * 1024);
  });
});

describe('readDeadLetterPage', () => {
  const letter = (n: number): DeadLetter => ({
    id: `job-${n}`,
    body: '{}',
    attributes: {},
    reason: 'max-attempts',
    attempts: 1,
    deadLetteredAt: 1_000 + n,
  });
  const all = [1, 2, 3, 4, 5].map(letter);
  const read = async (after: DeadLetterPosition | undefined, count: number) =>
    all.filter((l) => after === undefined || l.deadLetteredAt > after.deadLetteredAt).slice(0, count);

  it('pages with a cursor only while more follow', async () => {
    const first = await readDeadLetterPage({ limit: 2 }, read);
    expect(
      first.items.map((l) => l.id),
      'first page',
    ).toEqual(['job-1', 'job-2']);
    expect(decodeDeadLetterCursor(first.cursor as string), 'the cursor names the last item').toEqual({
      deadLetteredAt: 1_002,
      id: 'job-2',
    });
    const last = await readDeadLetterPage({ limit: 3, cursor: first.cursor as string }, read);
    expect(
      last.items.map((l) => l.id),
      'last page',
    ).toEqual(['job-3', 'job-4', 'job-5']);
    expect(last.cursor, 'no cursor when nothing follows').toBeUndefined();
  });

  it('rejects a bad limit or cursor before reading', async () => {
    let reads = 0;
    const counting = async (after: DeadLetterPosition | undefined, count: number) => {
      reads++;
      return read(after, count);
    };
    expect(await codeOf(readDeadLetterPage({ limit: 0 }, counting)), 'limit 0').toBe('INVALID_ARGUMENT');
    expect(await codeOf(readDeadLetterPage({ cursor: 'seq-12' }, counting)), 'a foreign cursor').toBe('INVALID_ARGUMENT');
    expect(reads, 'no read for bad arguments').toBe(0);
  });
});
