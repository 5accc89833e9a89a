import { describe, expect, it } from 'vitest';
import {
  compareDeadLetters,
  type DeadLetter,
  decodeDeadLetterCursor,
  encodeDeadLetterCursor,
  isBgError,
  latestPerJob,
  pageDeadLetters,
} from '../../src/adapter/index.js';

const letter = (id: string, deadLetteredAt: number, body = id): DeadLetter => ({
  id,
  body,
  attributes: {},
  reason: 'manual',
  attempts: 1,
  deadLetteredAt,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isBgError(error) ? `${error.code}/${error.retryable}` : String(error);
  }
  return undefined;
}

describe('dead-letter cursor', () => {
  it('round-trips a position, ids with any characters included', () => {
    for (const position of [
      { deadLetteredAt: 0, id: 'a' },
      { deadLetteredAt: 1_700_000_000_123, id: 'job:ü/🙂 "x"' },
    ]) {
      const cursor = encodeDeadLetterCursor(position);
      expect(cursor, 'encodeDeadLetterCursor: opaque dl1. + base64url').toMatch(/^dl1\.[A-Za-z0-9_-]+$/);
      expect(decodeDeadLetterCursor(cursor), `decodeDeadLetterCursor(${cursor}) gives the position back`).toEqual(position);
    }
  });

  it('rejects anything that is not one of its cursors with INVALID_ARGUMENT, not retryable', () => {
    const good = encodeDeadLetterCursor({ deadLetteredAt: 5, id: 'x' });
    const bad = [
      '',
      '3',
      '5:x',
      'dl1.',
      'dl1.!!!',
      good.slice(0, -2),
      `dl2.${good.slice(4)}`,
      `dl1.${Buffer.from('[1,2]').toString('base64url')}`,
      `dl1.${Buffer.from('["1","x"]').toString('base64url')}`,
      `dl1.${Buffer.from('[1,"x",3]').toString('base64url')}`,
      `dl1.${Buffer.from('{"a":1}').toString('base64url')}`,
      // A time no clock gives: a backend's integer column would fail it as a retryable error.
      `dl1.${Buffer.from('[1e300,"x"]').toString('base64url')}`,
      `dl1.${Buffer.from('[-1e300,"x"]').toString('base64url')}`,
    ];
    for (const cursor of bad) {
      expect(
        codeOf(() => decodeDeadLetterCursor(cursor)),
        `decodeDeadLetterCursor(${JSON.stringify(cursor)})`,
      ).toBe('INVALID_ARGUMENT/false');
    }
  });

  it('orders oldest first, ties by id', () => {
    const sorted = [letter('b', 2), letter('a', 2), letter('z', 1)].sort(compareDeadLetters).map((l) => l.id);
    expect(sorted, 'compareDeadLetters: time, then id').toEqual(['z', 'a', 'b']);
  });
});

describe('pageDeadLetters', () => {
  it('pages oldest first through ties without skipping or repeating a record', () => {
    // 25 records sharing 5 timestamps, given in a scrambled order.
    const all = Array.from({ length: 25 }, (_, i) => letter(`j${String((i * 7) % 25).padStart(2, '0')}`, 100 + (i % 5)));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = pageDeadLetters(all, { limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((l) => l.id));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    const expected = [...all].sort(compareDeadLetters).map((l) => l.id);
    expect(seen, 'pages concatenated = the whole oldest-first order').toEqual(expected);
    expect(pages, '25 records by 4 = 7 pages, the last without a cursor').toBe(7);
  });

  it('a cursor names a position: records removed before it do not shift the next page', () => {
    const all = [letter('a', 1), letter('b', 2), letter('c', 3), letter('d', 4)];
    const first = pageDeadLetters(all, { limit: 2 });
    expect(first.items.map((l) => l.id)).toEqual(['a', 'b']);
    const rest = pageDeadLetters([all[2] as DeadLetter, all[3] as DeadLetter], { limit: 2, cursor: first.cursor as string });
    expect(
      rest.items.map((l) => l.id),
      'after purging a and b, the second page is still c, d',
    ).toEqual(['c', 'd']);
    expect(rest.cursor, 'last page has no cursor').toBeUndefined();
  });

  it('lists the latest record of a job dead-lettered twice', () => {
    const page = pageDeadLetters([letter('a', 5, 'new'), letter('a', 1, 'old'), letter('b', 3)]);
    expect(
      page.items.map((l) => `${l.id}:${l.body}`),
      'one record per job id, the latest',
    ).toEqual(['b:b', 'a:new']);
  });

  it('checks limit and cursor (INVALID_ARGUMENT), and defaults the limit to 100', () => {
    expect(
      codeOf(() => pageDeadLetters([], { limit: 0 })),
      'limit 0',
    ).toBe('INVALID_ARGUMENT/false');
    expect(
      codeOf(() => pageDeadLetters([], { limit: 1.5 })),
      'limit 1.5',
    ).toBe('INVALID_ARGUMENT/false');
    expect(
      codeOf(() => pageDeadLetters([], { cursor: 'nope' })),
      'bad cursor',
    ).toBe('INVALID_ARGUMENT/false');
    const many = Array.from({ length: 150 }, (_, i) => letter(`j${i}`, i));
    expect(pageDeadLetters(many).items.length, 'default limit').toBe(100);
  });
});

describe('latestPerJob', () => {
  it('keeps the latest record per id (a tie goes to the later one) and names the rest superseded', () => {
    const r = [letter('a', 1, 'a1'), letter('b', 1), letter('a', 3, 'a3'), letter('a', 3, 'a3bis'), letter('a', 2, 'a2')];
    const split = latestPerJob(r, (x) => x);
    expect(
      split.latest.map((l) => l.body),
      'latest per id',
    ).toEqual(['a3bis', 'b']);
    expect(
      split.superseded.map((l) => l.body),
      'superseded, in input order',
    ).toEqual(['a1', 'a3', 'a2']);
  });
});
