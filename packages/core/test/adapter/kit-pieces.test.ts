import { describe, expect, it } from 'vitest';
import {
  abortableSleep,
  type Capabilities,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkLimit,
  checkReceiveOptions,
  checkReleaseDelayMs,
  deadLetterRecord,
  isBgError,
  KeyedMutex,
  leaseLost,
  MAX_ATTEMPTS_VALUE,
  RecentHandles,
  raceAbort,
  raceAbortHandBack,
} from '../../src/adapter/index.js';

const caps: Capabilities = {
  maxPayloadBytes: 1000,
  maxDelayMs: 1000,
  maxLeaseMs: 60_000,
  minLeaseMs: 1_000,
  maxReleaseDelayMs: 1000,
  maxBatchSize: 10,
  extendBeyondMax: 'reject',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: false,
  durable: true,
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBgError(error) ? `${error.code}/${error.retryable}` : String(error);
  }
  return undefined;
}

describe('RecentHandles', () => {
  it('remembers at least capacity and at most 2 × capacity handles, with values', () => {
    const recent = new RecentHandles<number>(3);
    for (let i = 0; i < 10; i++) recent.remember(`h${i}`, i);
    expect(recent.size, 'size stays within 2 × capacity').toBeLessThanOrEqual(6);
    for (let i = 7; i < 10; i++) expect(recent.get(`h${i}`), `the last ${3} are remembered (h${i})`).toBe(i);
    expect(recent.has('h0'), 'the oldest generation is dropped').toBe(false);
    recent.remember('h9', 99);
    expect(recent.get('h9'), 'remember replaces the value').toBe(99);
    recent.forget('h9');
    expect(recent.has('h9'), 'forget').toBe(false);
  });

  it('a value re-remembered after a generation flip is not lost with the old generation', () => {
    const recent = new RecentHandles<string>(2);
    recent.remember('a', 'leased');
    recent.remember('b', 'leased');
    recent.remember('c', 'leased'); // flip: a, b previous
    recent.remember('a', 'acked'); // moves a to current
    recent.remember('d', 'x'); // flip: c, a previous
    expect(recent.get('a'), 'a kept its newest value').toBe('acked');
  });

  it('lookups see what was remembered after an earlier lookup, the newest value of a handle, and forgets', () => {
    const recent = new RecentHandles<string>(4);
    recent.remember('a', 'leased');
    expect(recent.get('a'), 'first lookup indexes a').toBe('leased');
    recent.remember('b', 'leased');
    recent.remember('a', 'acked');
    expect(recent.get('b'), 'b, remembered after the first lookup').toBe('leased');
    expect(recent.get('a'), 'a re-remembered in the same generation: newest value').toBe('acked');
    recent.forget('a');
    expect(recent.has('a'), 'forget hides the older slot of a too').toBe(false);
    recent.remember('a', 'again');
    expect(recent.get('a'), 'remembered again after forget').toBe('again');
    recent.remember('c', 'x'); // flip: a, b, a, c are now the previous generation
    recent.remember('d', 'x');
    expect(recent.get('a'), 'the previous generation is still read').toBe('again');
    expect(recent.has('zz'), 'an unknown handle').toBe(false);
  });

  it('stays bounded under many inserts', () => {
    const recent = new RecentHandles(1_000);
    for (let i = 0; i < 100_000; i++) recent.remember(`handle-${i}`, true);
    expect(recent.size, 'between capacity and 2 × capacity after 100 000 inserts').toBeGreaterThanOrEqual(1_000);
    expect(recent.size).toBeLessThanOrEqual(2_000);
    expect(recent.has('handle-99999'), 'the newest is remembered').toBe(true);
  });

  it('rejects a bad capacity', () => {
    expect(() => new RecentHandles(0), 'capacity 0').toThrow(RangeError);
  });
});

describe('abortable sleep and races', () => {
  it('abortableSleep ends at once on an aborted signal, early on abort, and on time otherwise', async () => {
    const aborted = AbortSignal.abort();
    let t = performance.now();
    await abortableSleep(10_000, undefined, aborted);
    expect(performance.now() - t, 'already aborted: at once').toBeLessThan(1_000);
    const c = new AbortController();
    t = performance.now();
    const sleeping = abortableSleep(10_000, c.signal);
    setTimeout(() => c.abort(), 5);
    await sleeping;
    expect(performance.now() - t, 'aborted mid-sleep: early').toBeLessThan(5_000);
    t = performance.now();
    await abortableSleep(20);
    expect(performance.now() - t, 'unaborted: at least the time').toBeGreaterThanOrEqual(15);
    await abortableSleep(-1);
    await abortableSleep(Number.NaN);
  });

  it('raceAbort: value when the promise wins, done:false when the signal wins, rejection passes', async () => {
    expect(await raceAbort(Promise.resolve(3), undefined), 'no signal').toEqual({ done: true, value: 3 });
    expect(await raceAbort(Promise.resolve(3), new AbortController().signal), 'promise first').toEqual({ done: true, value: 3 });
    expect(await raceAbort(new Promise<number>(() => undefined), AbortSignal.abort()), 'aborted').toEqual({ done: false });
    const c = new AbortController();
    const racing = raceAbort(new Promise<number>(() => undefined), c.signal);
    c.abort();
    expect(await racing, 'abort during the race').toEqual({ done: false });
    await expect(raceAbort(Promise.reject(new Error('boom')), c.signal.aborted ? undefined : c.signal)).rejects.toThrow('boom');
    // A rejection after an abort is not unhandled.
    expect(await raceAbort(Promise.reject(new Error('late')), AbortSignal.abort())).toEqual({ done: false });
  });

  it('raceAbortHandBack hands a late result back, and swallows late failures', async () => {
    let deliver: (v: string[]) => void = () => undefined;
    const pending = new Promise<string[]>((r) => {
      deliver = r;
    });
    const c = new AbortController();
    const handedBack: string[][] = [];
    const racing = raceAbortHandBack(pending, c.signal, (late) => {
      handedBack.push(late);
    });
    c.abort();
    const outcome = await racing;
    expect(outcome.done, 'the abort won').toBe(false);
    deliver(['m1', 'm2']);
    if (!outcome.done) await outcome.handedBack;
    expect(handedBack, 'late messages handed back once').toEqual([['m1', 'm2']]);

    const won = await raceAbortHandBack(Promise.resolve(['x']), new AbortController().signal, () => {
      throw new Error('must not be called');
    });
    expect(won, 'in time: the value').toEqual({ done: true, value: ['x'] });

    const failing = await raceAbortHandBack(Promise.reject(new Error('late failure')), AbortSignal.abort(), () => undefined);
    if (!failing.done) await failing.handedBack;
    const throwing = await raceAbortHandBack(Promise.resolve(1), AbortSignal.abort(), () => {
      throw new Error('hand-back failed');
    });
    expect(throwing.done).toBe(false);
    if (!throwing.done) await expect(throwing.handedBack, 'a failing hand-back is swallowed').resolves.toBeUndefined();
  });
});

describe('KeyedMutex', () => {
  it('runs sections of one key one at a time, keys independently, past rejections', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const section =
      (name: string, fail = false) =>
      async () => {
        log.push(`${name}<`);
        await new Promise((r) => setImmediate(r));
        log.push(`>${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      mutex.run('q', section('a', true)),
      mutex.run('q', section('b')),
      mutex.run('other', section('x')),
    ]);
    expect(
      results.map((r) => r.status),
      'a rejects, b and x resolve',
    ).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('b<'), 'b starts only after a ended').toBeGreaterThan(log.indexOf('>a'));
    expect(log.indexOf('x<'), 'another key does not wait').toBeLessThan(log.indexOf('>a'));
    await new Promise((r) => setImmediate(r));
    expect(mutex.busyKeys, 'idle keys are forgotten').toBe(0);
  });
});

describe('receive and limit checks', () => {
  it('checkReceiveOptions checks max, leaseMs and waitMs', () => {
    expect(checkReceiveOptions(caps, { max: 10, leaseMs: 5 }), 'lease raised to min, wait 0').toEqual({
      max: 10,
      leaseMs: 1_000,
      waitMs: 0,
    });
    expect(checkReceiveOptions(caps, { max: 1, leaseMs: 2_000, waitMs: 7 }).waitMs).toBe(7);
    expect(
      codeOf(() => checkReceiveOptions(caps, { max: 11, leaseMs: 1_000 })),
      'max > maxBatchSize',
    ).toBe('BATCH_TOO_LARGE/false');
    expect(
      codeOf(() => checkReceiveOptions(caps, { max: 11, leaseMs: 1_000 }, { maxReceive: 32 })),
      'own receive limit',
    ).toBe(undefined);
    for (const max of [0, -1, 1.5, Number.NaN]) {
      expect(
        codeOf(() => checkReceiveOptions(caps, { max, leaseMs: 1_000 })),
        `max ${max}`,
      ).toBe('INVALID_ARGUMENT/false');
    }
    for (const waitMs of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(
        codeOf(() => checkReceiveOptions(caps, { max: 1, leaseMs: 1_000, waitMs })),
        `waitMs ${waitMs}`,
      ).toBe('INVALID_ARGUMENT/false');
    }
    expect(
      codeOf(() => checkReceiveOptions(caps, { max: 1, leaseMs: 0 })),
      'leaseMs 0',
    ).toBe('INVALID_ARGUMENT/false');
    expect(
      codeOf(() => checkReceiveOptions(caps, { max: 1, leaseMs: 60_001 })),
      'lease above max, reject',
    ).toBe('LEASE_TOO_LONG/false');
    expect(
      codeOf(() => checkReceiveOptions(caps, undefined as never)),
      'no options',
    ).toBe('INVALID_ARGUMENT/false');
  });

  it('checkLimit defaults and checks', () => {
    expect(checkLimit(undefined), 'default').toBe(100);
    expect(checkLimit(undefined, 7), 'own default').toBe(7);
    expect(checkLimit(3)).toBe(3);
    // 1e19 is an integer, but past every backend's integer column (PostgreSQL's bigint failed it).
    for (const limit of [0, -2, 2.5, Number.NaN, 1e19, Number.POSITIVE_INFINITY]) {
      expect(
        codeOf(() => checkLimit(limit)),
        `limit ${limit}`,
      ).toBe('INVALID_ARGUMENT/false');
    }
  });
});

describe('checkDeadLetterArgs', () => {
  const delivery = { id: 'j', body: 'b', handle: 'h', attributes: {}, deliveryCount: 1, enqueuedAt: 1, leaseExpiresAt: 2 };
  const info = { reason: 'manual' as const, attempts: 1, deadLetteredAt: 1_700_000_000_000 };

  it('accepts whole numbers in range', () => {
    for (const ok of [info, { ...info, attempts: 0 }, { ...info, attempts: MAX_ATTEMPTS_VALUE }, { ...info, enqueuedAt: 5 }]) {
      expect(
        codeOf(() => checkDeadLetterArgs(delivery, ok)),
        `checkDeadLetterArgs(${JSON.stringify(ok)})`,
      ).toBeUndefined();
    }
  });

  it('refuses, for good, numbers a backend cannot store: fractions, NaN, negatives, past the integer columns', () => {
    const bad = [
      { ...info, attempts: 1.5 },
      { ...info, attempts: Number.NaN },
      { ...info, attempts: -1 },
      { ...info, attempts: MAX_ATTEMPTS_VALUE + 1 },
      { ...info, deadLetteredAt: 1_700_000_000_000.5 },
      { ...info, deadLetteredAt: 1e300 },
      { ...info, deadLetteredAt: -1 },
      { ...info, enqueuedAt: 0.5 },
      { ...info, enqueuedAt: Number.NaN },
    ];
    for (const b of bad) {
      expect(
        codeOf(() => checkDeadLetterArgs(delivery, b)),
        `checkDeadLetterArgs(${String(Object.entries(b))})`,
      ).toBe('INVALID_ARGUMENT/false');
    }
  });
});

describe('deadLetterRecord and leaseLost', () => {
  it('builds the record from the delivery and the info, copying attributes and error', () => {
    const attributes = { 'bg-type': 't' };
    const error = { message: 'boom', name: 'Error' };
    const record = deadLetterRecord(
      { id: 'j', body: 'b', attributes, enqueuedAt: 5 },
      { reason: 'max-attempts', error, attempts: 3, deadLetteredAt: 9 },
    );
    expect(record, 'record fields').toEqual({
      id: 'j',
      body: 'b',
      attributes,
      reason: 'max-attempts',
      error,
      attempts: 3,
      enqueuedAt: 5,
      deadLetteredAt: 9,
    });
    expect(record.attributes, 'attributes copied').not.toBe(attributes);
    expect(record.error, 'error copied').not.toBe(error);
    const bare = deadLetterRecord({ id: 'j', body: 'b', attributes: {} }, { reason: 'manual', attempts: 1, deadLetteredAt: 2 });
    expect('error' in bare || 'enqueuedAt' in bare, 'absent fields stay absent').toBe(false);
    const infoWins = deadLetterRecord(
      { id: 'j', body: 'b', attributes: {}, enqueuedAt: 5 },
      { reason: 'manual', attempts: 1, enqueuedAt: 4, deadLetteredAt: 2 },
    );
    expect(infoWins.enqueuedAt, 'info.enqueuedAt first').toBe(4);
  });

  it('leaseLost is LEASE_LOST, never retryable, names the adapter and why', () => {
    const cause = new Error('PopReceiptMismatch');
    const e = leaseLost('azure-queue', 'PopReceiptMismatch', cause);
    expect(`${e.code}/${e.retryable}`).toBe('LEASE_LOST/false');
    expect(e.message, 'message').toBe('azure-queue: the lease handle no longer owns its message (PopReceiptMismatch)');
    expect(e.details, 'details.why').toEqual({ why: 'PopReceiptMismatch' });
    expect(e.cause, 'cause kept').toBe(cause);
  });
});

describe('lease and release checks give whole milliseconds', () => {
  it('rounds a fractional lease or release delay up (a Redis consumer name could not carry 200.5)', () => {
    expect(checkLeaseMs(caps, 2_000.5), 'checkLeaseMs(2000.5)').toBe(2_001);
    expect(checkLeaseMs(caps, 59_999.2), 'checkLeaseMs just under the max').toBe(60_000);
    expect(checkReleaseDelayMs(caps, 0.4), 'checkReleaseDelayMs(0.4)').toBe(1);
    expect(checkReleaseDelayMs(caps, 999.5), 'checkReleaseDelayMs(999.5), within the max of 1000').toBe(1_000);
  });
});
