import { describe, expect, it } from 'vitest';
import { countStates, formatState, parseState } from '../src/index.js';
import { deadName, isCursor, isDeadName, newKey, receivable } from '../src/layout.js';

describe('the on-disk names', () => {
  it('a state name round-trips and refuses anything else (path separators, garbage)', () => {
    const state = {
      key: newKey(Date.now()),
      deliveries: 3,
      visibleAt: 1_700_000_000_123,
      mode: 'l' as const,
      token: 'abcdef012345',
    };
    expect(parseState(formatState(state))).toEqual(state);
    for (const bad of ['', '../x', 'a/b.1.2.labcdef01', 'k.1.2.xabcdef01', 'k.1.2.l', '.tmp-1-abc']) {
      expect(parseState(bad), `parseState(${JSON.stringify(bad)})`).toBeUndefined();
    }
  });

  it('keys and dead-letter names sort oldest first, ties in the same ms included', () => {
    const now = Date.now();
    const keys = Array.from({ length: 50 }, () => newKey(now));
    expect([...keys].sort(), 'keys made in one ms keep their order').toEqual(keys);
    const dead = Array.from({ length: 50 }, (_, n) => deadName(now, `id-${n}`));
    expect([...dead].sort(), 'dead-letter names made in one ms keep their order').toEqual(dead);
    expect(isDeadName(dead[0] as string, 'id-0')).toBe(true);
    expect(isDeadName(dead[0] as string, 'id-1')).toBe(false);
    expect(isCursor(dead[3] as string)).toBe(true);
    expect(isCursor('../../etc/passwd')).toBe(false);
  });

  it('counts ready, in-flight and delayed; receivable lists only visible ones, oldest first', () => {
    const now = 1_000_000;
    const names = [
      formatState({ key: 'b', deliveries: 0, visibleAt: now, mode: 'w', token: 'aaaaaaaa' }),
      formatState({ key: 'a', deliveries: 1, visibleAt: now - 1, mode: 'l', token: 'bbbbbbbb' }),
      formatState({ key: 'c', deliveries: 1, visibleAt: now + 1, mode: 'l', token: 'cccccccc' }),
      formatState({ key: 'd', deliveries: 2, visibleAt: now + 1, mode: 'w', token: 'dddddddd' }),
      'garbage',
    ];
    expect(countStates(names, now)).toEqual({ ready: 2, inFlight: 1, delayed: 1 });
    expect(receivable(names, now).map((s) => s.key)).toEqual(['a', 'b']);
  });
});
