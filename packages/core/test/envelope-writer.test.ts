import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeWriter } from '../src/envelope-writer.js';
import { type Envelope, encodeEnvelope, isBgError, UUID_PATTERN, uuidv7 } from '../src/index.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_130);

/** The envelope as the producer built it field by field before the writer (the reference). */
function reference(
  shared: { type: string; v: number; key?: string; trace?: Envelope['trace']; meta?: Envelope['meta'] },
  id: string,
  payload: Envelope['payload'],
  createdAt: string,
): string {
  const envelope: Envelope = { bg: 1, id, type: shared.type, v: shared.v, payload, createdAt };
  if (shared.key !== undefined) envelope.key = shared.key;
  if (shared.trace) envelope.trace = { ...shared.trace };
  if (shared.meta) envelope.meta = { ...shared.meta };
  return encodeEnvelope(envelope);
}

const shared = fc.record(
  {
    type: fc.string({ minLength: 1, maxLength: 40 }),
    v: fc.integer({ min: 1, max: 1_000 }),
    key: fc.string({ minLength: 1, maxLength: 40 }),
    trace: fc.record(
      { traceparent: fc.string({ maxLength: 60 }), tracestate: fc.string({ maxLength: 60 }) },
      { requiredKeys: ['traceparent'] },
    ),
    meta: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
  },
  { requiredKeys: ['type', 'v'] },
);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBgError(error) ? error.code : `not a BgError: ${String(error)}`;
  }
  return undefined;
}

describe('envelopeWriter', () => {
  it('writes byte for byte what encodeEnvelope writes for the same envelope', () => {
    fc.assert(
      fc.property(
        shared,
        fc.jsonValue({ maxDepth: 3 }),
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        (s, payload, created) => {
          const id = uuidv7(created.getTime());
          const createdAt = created.toISOString();
          const text = envelopeWriter(s)(id, payload as Envelope['payload'], createdAt);
          expect(text).toBe(reference(s, id, payload as Envelope['payload'], createdAt));
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('checks the shared fields once, as encodeEnvelope would for each job', () => {
    expect(codeOf(() => envelopeWriter({ type: 't', v: 1 }))).toBeUndefined();
    expect(codeOf(() => envelopeWriter({ type: '', v: 1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => envelopeWriter({ type: 't', v: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => envelopeWriter({ type: 't', v: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => envelopeWriter({ type: 't', v: 1, key: '' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => envelopeWriter({ type: 't', v: 1, key: 'k'.repeat(513) }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => envelopeWriter({ type: 't', v: 1, meta: { a: 1 as unknown as string } }))).toBe('INVALID_ARGUMENT');
    const extra = { traceparent: 'x', baggage: 'y' } as unknown as Envelope['trace'];
    expect(codeOf(() => envelopeWriter({ type: 't', v: 1, trace: extra }))).toBe('INVALID_ARGUMENT');
  });

  it('copies trace and meta when made: changing the options afterwards changes no envelope', () => {
    const meta: Record<string, string> = { tenant: 'a' };
    const write = envelopeWriter({ type: 't', v: 1, meta });
    meta.tenant = 'b';
    const text = write(uuidv7(), 1, new Date().toISOString()) ?? '';
    expect(JSON.parse(text).meta).toEqual({ tenant: 'a' });
  });
});

describe('uuidv7 (written as bytes)', () => {
  it('carries the millisecond in its first 48 bits and version 7, variant 10 in every id', () => {
    for (const ms of [0, 1, 1_700_000_000_123, 2 ** 40 + 5, 2 ** 48 - 1]) {
      const id = uuidv7(ms);
      expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms);
    }
    // More ids than one random pool holds, so the refill is crossed.
    const ids = Array.from({ length: 1_000 }, () => uuidv7(1_700_000_000_000));
    for (const id of ids) {
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect('89ab').toContain(id[19]);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('returns a new string each call: an id taken earlier does not change', () => {
    const first = uuidv7(1);
    const copy = `${first}`;
    uuidv7(2 ** 47);
    expect(first).toBe(copy);
    expect(first.startsWith('00000000-0001-')).toBe(true);
  });
});
