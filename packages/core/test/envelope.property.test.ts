import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BgError, decodeEnvelope, type Envelope, encodeEnvelope, isBgError, uuidv7 } from '../src/index.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_129);
/** Generous for 2 shared cores; a decode takes microseconds. */
const PER_DECODE_MS = 1_000;

const secret = fc.stringMatching(/^[A-Za-z0-9]{16,24}$/).map((s) => `Zz${s}`);

const envelope: fc.Arbitrary<Envelope> = fc.record(
  {
    bg: fc.constant(1 as const),
    id: fc.constant(null).map(() => uuidv7()),
    type: fc.stringMatching(/^[a-z][a-z.]{0,30}$/),
    v: fc.integer({ min: 1, max: 50 }),
    payload: fc.jsonValue({ maxDepth: 3 }),
    createdAt: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
    key: fc.string({ minLength: 1, maxLength: 40 }),
    meta: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
  },
  { requiredKeys: ['bg', 'id', 'type', 'v', 'payload', 'createdAt'] },
) as fc.Arbitrary<Envelope>;

/** Ways stored text can be damaged: a field dropped, retyped or added, the JSON cut or wrapped. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), field: fc.constantFrom('bg', 'id', 'type', 'v', 'payload', 'createdAt') }),
  fc.record({
    kind: fc.constant('set' as const),
    field: fc.constantFrom('bg', 'id', 'type', 'v', 'createdAt', 'notBefore', 'key', 'trace', 'meta', 'extra', '__proto__'),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1.5, 2, '', 'x'.repeat(600), null, [], {})),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), with: fc.constantFrom('[', '"', '{"a":', ' ', '\u0000') }),
  fc.record({ kind: fc.constant('none' as const) }),
);

function damage(text: string, m: Record<string, unknown>): string {
  const obj = JSON.parse(text) as Record<string, unknown>;
  switch (m.kind) {
    case 'drop':
      delete obj[m.field as string];
      return JSON.stringify(obj);
    case 'set':
      return JSON.stringify({ ...obj, [m.field as string]: m.value });
    case 'cut':
      return text.slice(0, (m.at as number) % (text.length + 1));
    case 'wrap':
      return `${m.with as string}${text}`;
    default:
      return text;
  }
}

describe('property: decodeEnvelope of any text is an envelope or MALFORMED_ENVELOPE', () => {
  it('round-trips every valid envelope', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        expect(decodeEnvelope(encodeEnvelope(e)), 'decode(encode(e))').toEqual(JSON.parse(JSON.stringify(e)));
      }),
      { numRuns: 200, seed: SEED },
    );
  });

  it('damaged envelopes give typed errors only, fast, without the payload secret in the message', () => {
    fc.assert(
      fc.property(envelope, secret, mutation, (e, s, m) => {
        const text = damage(encodeEnvelope({ ...e, payload: { note: s, password: s, nested: [s] } }), m);
        const started = performance.now();
        try {
          decodeEnvelope(text);
        } catch (error) {
          expect(isBgError(error, 'MALFORMED_ENVELOPE'), `decodeEnvelope threw ${String(error)} for ${text.slice(0, 80)}`).toBe(
            true,
          );
          expect((error as BgError).retryable, 'a malformed envelope is not retryable').toBe(false);
          for (const t of [(error as Error).message, JSON.stringify(error)]) {
            expect(t, `the payload secret is echoed by the error for ${m.kind}`).not.toContain(s);
          }
        }
        expect(performance.now() - started, `decode of ${text.length} chars took too long`).toBeLessThan(PER_DECODE_MS);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('arbitrary text gives typed errors only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })), (text) => {
        try {
          decodeEnvelope(text);
        } catch (error) {
          expect(
            isBgError(error, 'MALFORMED_ENVELOPE'),
            `decodeEnvelope(${JSON.stringify(text.slice(0, 60))}) threw ${String(error)}`,
          ).toBe(true);
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});
