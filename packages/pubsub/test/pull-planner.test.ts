import { describe, expect, it } from 'vitest';
import { MAX_PARALLEL_PULLS, PullPlanner } from '../src/pull-planner.js';

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

describe('PullPlanner', () => {
  it('starts with one pull of max (an idle or new queue costs one request per poll)', () => {
    const planner = new PullPlanner();
    expect(planner.plan(512)).toEqual([512]);
    planner.record([512], [0]);
    expect(planner.plan(512)).toEqual([512]);
  });

  it('splits into pulls of about the yield while a backlog waits, asking for max in all', () => {
    const planner = new PullPlanner();
    planner.record([512], [100]);
    const asked = planner.plan(512);
    expect(asked).toHaveLength(6);
    expect(sum(asked)).toBe(512);
    expect(Math.max(...asked) - Math.min(...asked)).toBeLessThanOrEqual(1);
    expect(planner.plan(80)).toEqual([80]);
    expect(planner.plan(10_000)).toHaveLength(MAX_PARALLEL_PULLS);
    expect(sum(planner.plan(10_000))).toBe(10_000);
  });

  it('goes back to one pull once a pull comes back empty or every pull came back short', () => {
    const planner = new PullPlanner();
    planner.record([512], [100]);
    planner.record([86, 86, 85, 85, 85, 85], [86, 86, 85, 85, 85, 0]);
    expect(planner.plan(512)).toEqual([512]);
    planner.record([512], [100]);
    expect(planner.plan(512)).toHaveLength(6);
    planner.record([86, 86, 85, 85, 85, 85], [40, 30, 20, 10, 5, 1]);
    expect(planner.plan(512)).toEqual([512]);
  });

  it('learns a larger yield (real Pub/Sub may hand out up to 1 000 per pull)', () => {
    const planner = new PullPlanner();
    planner.record([1_000], [1_000]);
    expect(planner.plan(1_000)).toEqual([1_000]);
  });
});
