import { describe, expect, it } from 'vitest';
import {
  assertJsonValue,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  envelopeSchema,
  isBgError,
  UUID_PATTERN,
  uuidv7,
} from '../src/index.js';

const base: Envelope = {
  bg: 1,
  id: uuidv7(),
  type: 'email.welcome',
  v: 2,
  payload: { userId: 'u1', nested: [1, 'two', null, { ok: true }] },
  createdAt: new Date().toISOString(),
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBgError(error) ? error.code : 'not a BgError';
  }
  return undefined;
}

describe('envelope v1', () => {
  it('round-trips every field', () => {
    const full: Envelope = {
      ...base,
      notBefore: new Date(Date.now() + 60_000).toISOString(),
      key: 'welcome:u1',
      trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'a=b' },
      meta: { tenant: 'acme', ünï: 'cødé' },
    };
    expect(decodeEnvelope(encodeEnvelope(full))).toEqual(full);
  });

  it('rejects what is not an envelope as MALFORMED_ENVELOPE', () => {
    expect(codeOf(() => decodeEnvelope('not json'))).toBe('MALFORMED_ENVELOPE');
    expect(codeOf(() => decodeEnvelope('{"hello":1}'))).toBe('MALFORMED_ENVELOPE');
    expect(codeOf(() => decodeEnvelope(JSON.stringify({ ...base, bg: 2 })))).toBe('MALFORMED_ENVELOPE');
    expect(codeOf(() => decodeEnvelope(JSON.stringify({ ...base, extra: 'field' })))).toBe('MALFORMED_ENVELOPE');
    expect(codeOf(() => decodeEnvelope(JSON.stringify({ ...base, id: 'not-a-uuid' })))).toBe('MALFORMED_ENVELOPE');
    expect(codeOf(() => decodeEnvelope(JSON.stringify({ ...base, v: 0 })))).toBe('MALFORMED_ENVELOPE');
    const { payload: _payload, ...noPayload } = base;
    expect(codeOf(() => decodeEnvelope(JSON.stringify(noPayload)))).toBe('MALFORMED_ENVELOPE');
  });

  it('a future format version names itself in the error', () => {
    try {
      decodeEnvelope(JSON.stringify({ bg: 7 }));
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('unknown envelope format version 7');
    }
  });

  it('echoes a foreign format field bounded and redacted, in the message and in details', () => {
    const secret = 'hunter2Secret';
    const cases: { bg: unknown; shows: string }[] = [
      { bg: 'x'.repeat(100_000), shows: 'a string of 100000 characters' },
      { bg: `redis://:${secret}@db:6379`, shows: 'redis://:***@' },
      { bg: { password: secret, pad: 'y'.repeat(100_000) }, shows: '(an object)' },
      { bg: Array.from({ length: 10_000 }, () => secret), shows: '(an array of 10000 items)' },
      { bg: 1e300, shows: '1e+300' },
      { bg: true, shows: 'true' },
    ];
    for (const { bg, shows } of cases) {
      const text = JSON.stringify({ bg, id: base.id });
      let error: unknown;
      try {
        decodeEnvelope(text);
      } catch (e) {
        error = e;
      }
      const label = `decodeEnvelope(${text.slice(0, 40)}…)`;
      expect(isBgError(error) && error.code, `${label}: MALFORMED_ENVELOPE`).toBe('MALFORMED_ENVELOPE');
      if (!isBgError(error)) continue;
      const shown = `${error.message} ${JSON.stringify(error.details)}`;
      expect(shown.length, `${label}: message + details stay short, got ${shown.length} characters`).toBeLessThan(300);
      expect(shown, `${label}: the secret never appears`).not.toContain(secret);
      expect(error.message, `${label}: says what the field was`).toContain(shows);
    }
  });

  it('bounds the schema explanation of a foreign message with a huge unknown key', () => {
    const key = `k${'z'.repeat(50_000)}`;
    let message = '';
    try {
      decodeEnvelope(JSON.stringify({ ...base, [key]: 1 }));
    } catch (e) {
      message = isBgError(e) ? e.message : 'not a BgError';
    }
    expect(message, 'decodeEnvelope(unknown 50 000-character key): MALFORMED_ENVELOPE').toContain('not a bg envelope');
    expect(message.length, `decodeEnvelope(unknown 50 000-character key): message of ${message.length} characters`).toBeLessThan(
      800,
    );
  });

  it('stores no code and no classes: payloads must be plain JSON', () => {
    expect(codeOf(() => assertJsonValue({ fn: () => 1 }))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => assertJsonValue({ when: new Date() }))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => assertJsonValue({ big: 10n }))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => assertJsonValue({ n: Number.NaN }))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => assertJsonValue(new (class User {})()))).toBe('INVALID_PAYLOAD');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => assertJsonValue(cyclic))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => assertJsonValue({ ok: [1, 'a', null, true, { deep: {} }], skipped: undefined }))).toBeUndefined();
    expect(codeOf(() => assertJsonValue(Object.create(null)))).toBeUndefined();
    expect(() => assertJsonValue({ a: { b: [1, () => 1] } }), 'the message names the path').toThrow('$.a.b[1]');
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200; i++) deep = { d: [deep] };
    expect(
      codeOf(() => assertJsonValue(deep)),
      'plain JSON deeper than the fast walk goes',
    ).toBeUndefined();
  });

  it('accepts exactly the ids UUID_PATTERN accepts (the envelope check does not run the regex)', () => {
    const id = uuidv7();
    const ids = [id, id.toUpperCase(), '', `${id}a`, id.slice(0, 35)];
    for (let i = 0; i < 36; i++) for (const c of '09afAFgG-x é\u0661\u0130') ids.push(id.slice(0, i) + c + id.slice(i + 1));
    for (const candidate of ids) {
      const text = JSON.stringify({ ...base, id: candidate });
      expect(
        codeOf(() => decodeEnvelope(text)),
        `decodeEnvelope with id ${JSON.stringify(candidate)}`,
      ).toBe(UUID_PATTERN.test(candidate) ? undefined : 'MALFORMED_ENVELOPE');
    }
  });

  it('decoding never revives code: a __proto__ key stays data', () => {
    const text = `{"bg":1,"id":"${base.id}","type":"t","v":1,"payload":{"__proto__":{"polluted":true}},"createdAt":"${base.createdAt}"}`;
    const decoded = decodeEnvelope(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(decoded.type).toBe('t');
  });
});

describe('uuidv7', () => {
  it('is a version-7 UUID whose prefix sorts by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(UUID_PATTERN);
    expect(a[14]).toBe('7');
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => uuidv7())).size).toBe(1000);
  });
});

describe('the fast envelope check agrees with the zod schema', () => {
  const now = new Date().toISOString();
  const variants: unknown[] = [
    base,
    { ...base, notBefore: now },
    { ...base, notBefore: '2024-01-01T00:00:00+02:00' },
    { ...base, createdAt: '2024-13-45T00:00:00Z' },
    { ...base, createdAt: 'yesterday' },
    { ...base, key: '' },
    { ...base, key: 'k'.repeat(513) },
    { ...base, type: 't'.repeat(201) },
    { ...base, v: 1.5 },
    { ...base, v: '1' },
    { ...base, payload: null },
    { ...base, trace: { traceparent: 'x' } },
    { ...base, trace: { traceparent: 'x', extra: 'y' } },
    { ...base, trace: { tracestate: 'only' } },
    { ...base, meta: { a: 1 } },
    { ...base, meta: { a: 'b' } },
    { ...base, meta: ['a'] },
    { ...base, id: base.id.toUpperCase() },
    [],
    'string',
    null,
  ];
  for (const [i, variant] of variants.entries()) {
    it(`variant ${i}`, () => {
      // A malformed trace alone is dropped on decode: such an envelope decodes as the schema
      // accepts it without its trace.
      const withoutTrace =
        typeof variant === 'object' && variant !== null && !Array.isArray(variant) && 'trace' in variant
          ? Object.fromEntries(Object.entries(variant).filter(([k]) => k !== 'trace'))
          : variant;
      const zodOk = envelopeSchema.safeParse(variant).success || envelopeSchema.safeParse(withoutTrace).success;
      let fastOk = true;
      try {
        decodeEnvelope(JSON.stringify(variant));
      } catch {
        fastOk = false;
      }
      expect(fastOk).toBe(zodOk);
    });
  }
});

describe('the remembered createdAt of the fast check', () => {
  it('accepts a repeated timestamp and still refuses a bad one right after a good one', () => {
    const good = { bg: 1, id: uuidv7(), type: 't', v: 1, payload: null, createdAt: '2026-11-30T00:00:00.000Z' };
    for (let n = 0; n < 2; n++)
      expect(decodeEnvelope(JSON.stringify({ ...good, id: uuidv7() })).createdAt, 'decode of a repeated createdAt').toBe(
        good.createdAt,
      );
    for (const createdAt of ['2026-13-30T00:00:00.000Z', '2026-11-30T00:00:00.000', '2026-11-30 00:00:00Z'])
      expect(
        () => decodeEnvelope(JSON.stringify({ ...good, createdAt })),
        `decodeEnvelope with createdAt ${createdAt} after a valid one must throw MALFORMED_ENVELOPE`,
      ).toThrow(/not a bg envelope/);
  });
});
