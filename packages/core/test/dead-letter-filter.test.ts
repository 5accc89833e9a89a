import { describe, expect, it } from 'vitest';
import {
  type DeadLetter,
  type DeadLetterFilter,
  deadLetterType,
  encodeEnvelope,
  isDeadLetterFilterActive,
  matchesDeadLetter,
  uuidv7,
} from '../src/index.js';

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

function dead(overrides: Partial<DeadLetter> = {}): DeadLetter {
  const body = encodeEnvelope({
    bg: 1,
    id: uuidv7(),
    type: 'email.welcome',
    v: 1,
    payload: {},
    createdAt: new Date(NOW - 60 * MINUTE).toISOString(),
  });
  return {
    id: 'job-1',
    body,
    attributes: {},
    reason: 'max-attempts',
    attempts: 5,
    deadLetteredAt: NOW - 10 * MINUTE,
    error: { name: 'TypeError', code: 'ECONNRESET', message: 'Socket hang up' },
    ...overrides,
  };
}

describe('deadLetterType', () => {
  it('prefers the bg-type attribute, falls back to the envelope, and is undefined for a foreign body', () => {
    expect(deadLetterType(dead({ attributes: { 'bg-type': 'billing.charge' } })), 'bg-type attribute').toBe('billing.charge');
    expect(deadLetterType(dead()), 'envelope type when there is no attribute').toBe('email.welcome');
    expect(deadLetterType(dead({ body: 'not an envelope' })), 'a body that is not an envelope').toBeUndefined();
  });
});

describe('matchesDeadLetter', () => {
  const cases: readonly [what: string, filter: DeadLetterFilter, expected: boolean][] = [
    ['the empty filter', {}, true],
    ['empty lists', { ids: [], reasons: [], types: [], text: '' }, true],
    ['its id', { ids: ['other', 'job-1'] }, true],
    ['another id', { ids: ['other'] }, false],
    ['its reason', { reasons: ['max-attempts'] }, true],
    ['another reason', { reasons: ['permanent-error'] }, false],
    ['its type', { types: ['email.welcome'] }, true],
    ['another type', { types: ['billing.charge'] }, false],
    ['older than 5 min (it is 10)', { olderThanMs: 5 * MINUTE }, true],
    ['older than 15 min', { olderThanMs: 15 * MINUTE }, false],
    ['newer than 15 min', { newerThanMs: 15 * MINUTE }, true],
    ['newer than 5 min', { newerThanMs: 5 * MINUTE }, false],
    ['text in the message, other case', { text: 'HANG UP' }, true],
    ['text in the error name', { text: 'typeerror' }, true],
    ['text in the error code', { text: 'econnreset' }, true],
    ['text found nowhere', { text: 'timeout' }, false],
    ['every condition met', { ids: ['job-1'], reasons: ['max-attempts'], types: ['email.welcome'], text: 'socket' }, true],
    ['one condition of several failing', { ids: ['job-1'], reasons: ['max-attempts'], types: ['nope'] }, false],
  ];
  for (const [what, filter, expected] of cases) {
    it(`${expected ? 'keeps' : 'drops'} a dead letter for ${what}`, () => {
      expect(matchesDeadLetter(dead(), filter, NOW), `matchesDeadLetter(dead, ${JSON.stringify(filter)}, now)`).toBe(expected);
    });
  }

  it('the text filter searches the error as shown (redacted): it cannot guess a masked password', () => {
    const leaky = dead({ error: { message: 'connect to redis://u:pw12345@h:1/ failed' } });
    for (const guess of ['u:pw1', 'pw12345', 'u:pw12345@']) {
      expect(matchesDeadLetter(leaky, { text: guess }, NOW), `text ${JSON.stringify(guess)} against a masked password`).toBe(
        false,
      );
    }
    expect(matchesDeadLetter(leaky, { text: 'failed' }, NOW), 'text that is shown').toBe(true);
  });

  it('a type filter drops a dead letter whose type is unknown; a text filter drops one without an error', () => {
    expect(matchesDeadLetter(dead({ body: '{}' }), { types: ['email.welcome'] }, NOW), 'unknown type').toBe(false);
    const { error: _error, ...withoutError } = dead();
    expect(matchesDeadLetter(withoutError, { text: 'socket' }, NOW), 'no error to search').toBe(false);
  });
});

describe('isDeadLetterFilterActive', () => {
  it('is false for absent or empty fields and true for each field that narrows', () => {
    expect(isDeadLetterFilterActive({}), '{}').toBe(false);
    expect(isDeadLetterFilterActive({ ids: [], reasons: [], types: [], text: '' }), 'empty fields').toBe(false);
    const narrowing: readonly DeadLetterFilter[] = [
      { ids: ['a'] },
      { reasons: ['permanent-error'] },
      { types: ['t'] },
      { olderThanMs: 0 },
      { newerThanMs: 1 },
      { text: 'x' },
    ];
    for (const filter of narrowing) expect(isDeadLetterFilterActive(filter), JSON.stringify(filter)).toBe(true);
  });
});
