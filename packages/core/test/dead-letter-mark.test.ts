import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Capabilities, DeadLetterInfo } from '../src/adapter.js';
import {
  deadLetterMarkOf,
  encodeDeadLetterMark,
  MAX_DEAD_LETTER_MARK_BYTES,
  readDeadLetterMark,
  withoutDeadLetterMark,
} from '../src/dead-letter-mark.js';
import { type DeliveryFacts, decideDelivery } from '../src/decide-outcome.js';
import type { Envelope } from '../src/envelope.js';
import { defineJob } from '../src/job.js';
import { DEAD_LETTER_ATTRIBUTE } from '../src/message-attributes.js';

const INFO: DeadLetterInfo = {
  reason: 'max-attempts',
  attempts: 5,
  error: { message: 'boom — 日本 🚀 "quoted" \\ back\nslash', name: 'Error', code: 'E_BOOM', stack: 'Error: boom\n    at x' },
  enqueuedAt: 1_700_000_000_000,
  deadLetteredAt: 1_700_000_100_000,
};

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('encodeDeadLetterMark / readDeadLetterMark: the record a dead letter in transit carries', () => {
  it('round-trips a whole record, as printable ASCII JSON', () => {
    const mark = encodeDeadLetterMark(INFO);
    expect(mark, 'the marker is printable ASCII (safe in every backend attribute)').toMatch(/^[\x20-\x7e]+$/);
    expect(readDeadLetterMark(mark), `readDeadLetterMark(${mark})`).toEqual({ valid: true, info: INFO });
    const bare: DeadLetterInfo = { reason: 'manual', attempts: 0, deadLetteredAt: 1 };
    expect(readDeadLetterMark(encodeDeadLetterMark(bare))).toEqual({ valid: true, info: bare });
  });

  it('fits 1 024 bytes (Pub/Sub attribute values): the stack goes first, then the message is cut', () => {
    const long: DeadLetterInfo = {
      ...INFO,
      error: { message: `${'é🚀"\n'.repeat(2_000)}end`, name: 'N'.repeat(500), code: 'C'.repeat(500), stack: 's'.repeat(8_000) },
    };
    const mark = encodeDeadLetterMark(long);
    expect(bytes(mark), 'marker bytes').toBeLessThanOrEqual(MAX_DEAD_LETTER_MARK_BYTES);
    expect(bytes(mark), 'the room is used, not left empty').toBeGreaterThan(MAX_DEAD_LETTER_MARK_BYTES - 20);
    const read = readDeadLetterMark(mark);
    if (!read.valid) throw new Error(`a marker encodeDeadLetterMark wrote does not read back: ${read.problem}`);
    const { error, ...rest } = read.info;
    expect(rest, 'reason, attempts and timestamps are kept whole').toEqual({
      reason: 'max-attempts',
      attempts: 5,
      enqueuedAt: INFO.enqueuedAt,
      deadLetteredAt: INFO.deadLetteredAt,
    });
    expect(error?.stack, 'the stack is dropped first').toBeUndefined();
    expect(error?.name, 'the name is cut to 100 characters').toBe('N'.repeat(100));
    expect(error?.code).toBe('C'.repeat(100));
    expect(error?.message.endsWith('…'), 'a cut message says so').toBe(true);
    expect(error?.message.startsWith('é🚀"\n'), 'the head of the message is kept').toBe(true);
    expect(/[\uD800-\uDBFF]$/.test(error?.message.slice(0, -1) ?? ''), 'no half of a character pair left at the cut').toBe(false);
  });

  it('keeps a short error whole within a smaller budget, and drops an error that cannot fit at all', () => {
    expect(bytes(encodeDeadLetterMark(INFO, 300))).toBeLessThanOrEqual(300);
    const tiny = encodeDeadLetterMark({ ...INFO, error: { message: 'x', name: 'n'.repeat(100), code: 'c'.repeat(100) } }, 200);
    expect(bytes(tiny)).toBeLessThanOrEqual(200);
    expect(readDeadLetterMark(tiny)).toMatchObject({ valid: true, info: { reason: 'max-attempts', attempts: 5 } });
  });

  const malformed: Array<[string, string]> = [
    ['empty', ''],
    ['not JSON', '{reason:'],
    ['code, not JSON', 'process.exit(1)'],
    ['an array', '[1]'],
    ['null', 'null'],
    ['no version', '{"reason":"max-attempts","attempts":1,"deadLetteredAt":1}'],
    ['another version', '{"v":2,"reason":"max-attempts","attempts":1,"deadLetteredAt":1}'],
    ['an unknown reason', '{"v":1,"reason":"fun","attempts":1,"deadLetteredAt":1}'],
    ['a prototype key', '{"v":1,"reason":"max-attempts","attempts":1,"deadLetteredAt":1,"__proto__":{"x":1}}'],
    ['a negative attempts', '{"v":1,"reason":"max-attempts","attempts":-1,"deadLetteredAt":1}'],
    ['a fractional attempts', '{"v":1,"reason":"max-attempts","attempts":1.5,"deadLetteredAt":1}'],
    [
      'attempts past a 32-bit integer (no SQL integer column holds it)',
      '{"v":1,"reason":"max-attempts","attempts":2147483648,"deadLetteredAt":1}',
    ],
    ['attempts as text', '{"v":1,"reason":"max-attempts","attempts":"1","deadLetteredAt":1}'],
    ['no deadLetteredAt', '{"v":1,"reason":"max-attempts","attempts":1}'],
    ['a time past year 9999', '{"v":1,"reason":"max-attempts","attempts":1,"deadLetteredAt":1e20}'],
    ['an error that is text', '{"v":1,"reason":"max-attempts","attempts":1,"deadLetteredAt":1,"error":"boom"}'],
    ['an error without message', '{"v":1,"reason":"max-attempts","attempts":1,"deadLetteredAt":1,"error":{"name":"E"}}'],
    [
      'an error with a number code',
      '{"v":1,"reason":"max-attempts","attempts":1,"deadLetteredAt":1,"error":{"message":"m","code":1}}',
    ],
    ['too long', `{"v":1,"reason":"max-attempts","attempts":1,"deadLetteredAt":1,"error":{"message":"${'x'.repeat(2_000)}"}}`],
  ];
  for (const [what, value] of malformed) {
    it(`refuses a marker that is ${what}, naming the problem`, () => {
      const read = readDeadLetterMark(value);
      expect(read.valid, `readDeadLetterMark(${JSON.stringify(value.slice(0, 80))})`).toBe(false);
      if (!read.valid) expect(read.problem.length).toBeGreaterThan(0);
    });
  }

  it('redacts credentials in the error it reads (the marker is untrusted text)', () => {
    const read = readDeadLetterMark(
      '{"v":1,"reason":"permanent-error","attempts":1,"deadLetteredAt":1,"error":{"message":"cannot reach redis://:hunter2@db:6379"}}',
    );
    expect(JSON.stringify(read)).not.toContain('hunter2');
    expect(read.valid).toBe(true);
  });

  it("reads a delivery's own attribute only, and strips it into a copy", () => {
    expect(deadLetterMarkOf({ 'bg-type': 't' }), 'no marker').toBeUndefined();
    expect(
      deadLetterMarkOf(Object.create({ [DEAD_LETTER_ATTRIBUTE]: 'x' })),
      'an inherited name is no attribute',
    ).toBeUndefined();
    expect(deadLetterMarkOf({ [DEAD_LETTER_ATTRIBUTE]: 'x' })).toMatchObject({ valid: false });
    const attributes = { 'bg-type': 't', [DEAD_LETTER_ATTRIBUTE]: encodeDeadLetterMark(INFO) };
    expect(withoutDeadLetterMark(attributes)).toEqual({ 'bg-type': 't' });
    expect(attributes[DEAD_LETTER_ATTRIBUTE], 'the received attributes are not changed').toBeDefined();
    const plain = { 'bg-type': 't' };
    expect(withoutDeadLetterMark(plain), 'no copy when there is nothing to strip').toBe(plain);
  });
});

describe('decideDelivery: a delivery bearing the bg-dead-letter marker is never run', () => {
  const caps: Capabilities = {
    maxPayloadBytes: 1_000,
    maxDelayMs: 900_000,
    maxLeaseMs: 600_000,
    minLeaseMs: 1,
    maxReleaseDelayMs: 43_200_000,
    maxBatchSize: 10,
    extendBeyondMax: 'clamp',
    nativeDeliveryCount: true,
    nativeDeadLetter: false,
    ordering: false,
    deduplication: false,
    durable: true,
  };
  const policy = { capabilities: caps, versionWindowMs: 60_000, random: () => 0.5 };
  const NOW = Date.parse('2026-11-29T12:00:00.000Z');
  const job = defineJob({ type: 'unit.job', schema: z.object({ n: z.number() }), retry: { maxAttempts: 3 } });
  const envelope = (more: Partial<Envelope> = {}): Envelope => ({
    bg: 1,
    id: '0193a6c0-0000-7000-8000-000000000001',
    type: 'unit.job',
    v: 1,
    payload: { n: 1 },
    createdAt: '2026-11-29T11:00:00.000Z',
    ...more,
  });
  const facts = (mark: string, more: Partial<DeliveryFacts> = {}): DeliveryFacts => ({
    envelope: envelope(),
    job,
    deliveryCount: 2,
    hopped: false,
    deadLetterMark: readDeadLetterMark(mark),
    ...more,
  });

  it('a valid marker → dead-letter at once with the recorded reason, attempts, error and timestamps', () => {
    expect(decideDelivery(facts(encodeDeadLetterMark(INFO)), policy, NOW)).toEqual({
      kind: 'dead-letter',
      reason: 'max-attempts',
      attempts: 5,
      jobType: 'unit.job',
      error: INFO.error,
      enqueuedAt: INFO.enqueuedAt,
      deadLetteredAt: INFO.deadLetteredAt,
    });
  });

  const wins: Array<[string, Partial<DeliveryFacts>]> = [
    [
      'a malformed body (the dead letter was malformed-envelope)',
      { envelope: undefined, decodeError: new Error('x'), job: undefined },
    ],
    ['an early notBefore (no hop)', { envelope: envelope({ notBefore: new Date(NOW + 3_600_000).toISOString() }) }],
    ['an unknown type', { job: undefined }],
    ['a newer version (no deferral)', { envelope: envelope({ v: 9 }) }],
    ['a delivery count past maxAttempts', { deliveryCount: 99 }],
  ];
  for (const [what, more] of wins) {
    it(`the marker wins over ${what}`, () => {
      const outcome = decideDelivery(facts(encodeDeadLetterMark(INFO), more), policy, NOW);
      expect(outcome, `decideDelivery with a marker and ${what}`).toMatchObject({
        kind: 'dead-letter',
        reason: 'max-attempts',
        attempts: 5,
        deadLetteredAt: INFO.deadLetteredAt,
      });
    });
  }

  it('a malformed marker → dead-letter malformed-envelope with this delivery count and the problem, never run', () => {
    const outcome = decideDelivery(facts('{"v":1,"reason":"nope"}', { deliveryCount: 3 }), policy, NOW);
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      reason: 'malformed-envelope',
      attempts: 3,
      jobType: 'unit.job',
      enqueuedAt: Date.parse('2026-11-29T11:00:00.000Z'),
      error: {
        message: expect.stringMatching(/bg-dead-letter attribute .* cannot be read: "reason" is not a dead-letter reason/),
      },
    });
    expect(outcome).not.toHaveProperty('deadLetteredAt');
    const noBody = decideDelivery(facts('garbage', { envelope: undefined, job: undefined }), policy, NOW);
    expect(noBody).toMatchObject({ kind: 'dead-letter', reason: 'malformed-envelope', attempts: 2, jobType: undefined });
    expect(noBody).not.toHaveProperty('enqueuedAt');
  });

  it('no marker → the usual decisions (run)', () => {
    expect(decideDelivery({ ...facts(''), deadLetterMark: undefined }, policy, NOW)).toMatchObject({ kind: 'run', attempt: 2 });
  });
});
