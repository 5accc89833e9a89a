import { describe, expect, it } from 'vitest';
import { answeredAtOnce, emptyPollPause } from '../src/empty-poll.js';

describe('empty polls', () => {
  it('an empty answer is "at once" before half its long poll, and always without a long poll', () => {
    expect(answeredAtOnce(0, 0)).toBe(true);
    expect(answeredAtOnce(50, 0)).toBe(true);
    expect(answeredAtOnce(1, 5_000)).toBe(true);
    expect(answeredAtOnce(2_600, 5_000)).toBe(false);
  });

  it('backs off from 5 ms, doubling, up to the long poll clamped to 250 ms–1 s', () => {
    expect(emptyPollPause(1, 0, 0.999999)).toBeCloseTo(5, 3);
    expect(emptyPollPause(2, 0, 0.999999)).toBeCloseTo(10, 3);
    expect(emptyPollPause(50, 0, 0.999999)).toBeCloseTo(250, 2);
    expect(emptyPollPause(50, 5_000, 0.999999)).toBeCloseTo(1_000, 2);
    expect(emptyPollPause(50, 400, 0.999999)).toBeCloseTo(400, 2);
  });

  it('jitters between half and all of the pause, never 0', () => {
    expect(emptyPollPause(1, 0, 0)).toBe(2.5);
    expect(emptyPollPause(Number.POSITIVE_INFINITY, 0, 0)).toBeGreaterThan(0);
  });
});
