import { describe, expect, it } from 'vitest';
import { supersededDeadLetters } from '../src/dead-letter-scan.js';
import { ATTRIBUTE_ALLOWANCE_BYTES } from '../src/limits.js';
import { encodeMessage } from '../src/message-codec.js';

describe('size accounting', () => {
  it('attributes within the allowance do not count against maxPayloadBytes (the core’s bg-type, bg-hopped)', () => {
    const body = 'x'.repeat(1_000);
    const e = encodeMessage({ id: 'job-1', body, attributes: { 'bg-type': 'email.welcome', 'bg-hopped': '1' } });
    expect(e.payloadBytes, 'payload bytes of a body with small attributes').toBe(1_000);
    expect(e.bytes, 'SQS still counts every attribute in the message size').toBeGreaterThan(1_000);
  });

  it('attributes beyond the allowance count, byte for byte', () => {
    const value = 'v'.repeat(ATTRIBUTE_ALLOWANCE_BYTES);
    const e = encodeMessage({ id: 'job-2', body: 'abc', attributes: { big: value } });
    // name + "String" + value, less the allowance
    expect(e.payloadBytes).toBe(3 + 'big'.length + 'String'.length + value.length - ATTRIBUTE_ALLOWANCE_BYTES);
  });
});

describe('supersededDeadLetters', () => {
  const record = (id: string, at: number, receipt: string) => ({
    receipt,
    messageId: receipt,
    letter: { id, body: '{}', attributes: {}, reason: 'permanent-error' as const, attempts: 1, deadLetteredAt: at },
  });

  it('keeps the latest record of each job and gives back the older copies', () => {
    const a1 = record('a', 10, 'r1');
    const b1 = record('b', 11, 'r2');
    const a2 = record('a', 12, 'r3');
    expect(supersededDeadLetters([a1, b1, a2]).map((s) => s.receipt)).toEqual(['r1']);
    expect(supersededDeadLetters([a2, b1, a1]).map((s) => s.receipt)).toEqual(['r1']);
    expect(supersededDeadLetters([b1])).toEqual([]);
  });
});
