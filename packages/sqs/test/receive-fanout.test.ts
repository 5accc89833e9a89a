import { describe, expect, it } from 'vitest';
import { ReceiveFanout } from '../src/receive-fanout.js';

describe('ReceiveFanout', () => {
  it('is one call of at most 10 until a receive came back full', () => {
    const fanout = new ReceiveFanout();
    expect(fanout.plan(80)).toEqual([10]);
    expect(fanout.plan(3)).toEqual([3]);
    fanout.record([10], [4]);
    expect(fanout.plan(80)).toEqual([10]);
  });

  it('splits into calls of at most 10 asking for max in all while a backlog waits', () => {
    const fanout = new ReceiveFanout();
    fanout.record([10], [10]);
    expect(fanout.plan(80)).toEqual([10, 10, 10, 10, 10, 10, 10, 10]);
    expect(fanout.plan(35)).toEqual([9, 9, 9, 8]);
    expect(fanout.plan(7)).toEqual([7]);
  });

  it('goes back to one call once any call came back short', () => {
    const fanout = new ReceiveFanout();
    fanout.record([10], [10]);
    fanout.record([10, 10, 10], [10, 10, 2]);
    expect(fanout.plan(30)).toEqual([10]);
  });
});
