import { describe, expect, it } from 'vitest';
import { REDACTED, redactJsonText, redactJsonValue } from '../src/index.js';

describe('redactJsonValue / redactJsonText (dead-letter bodies shown by bgctl and the dashboard)', () => {
  it('masks secret-named fields whole (strings, numbers, lists, objects) and keeps null, booleans and empty values', () => {
    const masked = redactJsonValue({
      apiKeys: ['k-one', 'k-two'],
      privateKey: { kty: 'RSA', d: 'secret-exponent' },
      password: 1234,
      token: null,
      secret: false,
      credentials: [],
      nested: { deeper: { client_secret: 'cs-1' } },
      id: 7,
    });
    expect(JSON.parse(JSON.stringify(masked))).toEqual({
      apiKeys: REDACTED,
      privateKey: REDACTED,
      password: REDACTED,
      token: null,
      secret: false,
      credentials: [],
      nested: { deeper: { client_secret: REDACTED } },
      id: 7,
    });
  });

  it('redacts strings with their real line breaks (a header or an env line inside a body)', () => {
    const text = JSON.stringify({ note: 'GET /x\r\nX-Api-Key: key-123456\r\nDB_PASSWORD=pw-7890\n' });
    const out = redactJsonText(text);
    for (const secret of ['key-123456', 'pw-7890']) expect(out, `redactJsonText kept ${secret}: ${out}`).not.toContain(secret);
  });

  it('gives a body with nothing to mask back byte for byte, keeps the digits of big numbers, and keeps "__proto__" a field', () => {
    const text = '{ "order": 12345678901234567890, "n": 1.50 }';
    expect(redactJsonText(text), 'nothing to mask: the stored bytes').toBe(text);
    expect(redactJsonText('{"order":12345678901234567890,"password":"x"}')).toBe(
      `{"order":12345678901234567890,"password":"${REDACTED}"}`,
    );
    expect(redactJsonText('{"__proto__":{"password":"p1"}}')).toBe(`{"__proto__":{"password":"${REDACTED}"}}`);
  });

  it('pretty-prints with `space`, redacts text that is not JSON, and masks a document nested past its walk', () => {
    expect(redactJsonText('{"a":1}', 2)).toBe('{\n  "a": 1\n}');
    expect(redactJsonText('not json redis://:hunter2x@h:1')).toBe(`not json redis://:${REDACTED}@h:1`);
    const deep = `${'['.repeat(600)}"sk-${'a'.repeat(40)}"${']'.repeat(600)}`;
    expect(redactJsonText(deep), 'a deeply nested token is not shown').not.toContain('a'.repeat(40));
  });
});
