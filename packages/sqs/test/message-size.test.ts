import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_ALLOWANCE_BYTES } from '../src/capabilities.js';
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
