import { describe, expect, it } from 'vitest';
import { REDACTED, redactText } from '../src/index.js';

describe('redactText of a large text (a dead-letter body of ~10 MB, as Pub/Sub, Redis and PostgreSQL store)', () => {
  it('does not run out of stack on a long quoted value, and still masks the pairs around it', () => {
    const blob = 'x'.repeat(12_000_000);
    const text = `{"password": "pw-before", "blob": "${blob}", "token": 'tk\\'after', "note": "a\\"b"}`;
    let out = '';
    expect(() => {
      out = redactText(text);
    }, 'redactText threw on a 12 MB quoted value (RangeError: Maximum call stack size exceeded)').not.toThrow();
    expect(out, 'the pair before the long value is masked').toContain(`"password": "${REDACTED}"`);
    expect(out, 'the single-quoted pair after it is masked').toContain(`"token": '${REDACTED}'`);
    expect(out, 'the long value that is not secret is kept whole').toContain(`"blob": "${blob}"`);
    expect(out, 'an escaped quote inside a value that is not secret is kept').toContain('"note": "a\\"b"');
  });
});
