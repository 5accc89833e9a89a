import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../src/ledger.js';
import { measureRedelivery, redeliveryPath } from '../src/run-chaos.js';

const at = 1_000_000;
const entry = (t: number, w: string, e: LedgerEntry['e'], id: string): LedgerEntry => ({ t: at + t, w, e, id });

describe('measureRedelivery', () => {
  it('measures the time from a kill to the next start elsewhere', () => {
    const r = measureRedelivery([entry(-50, 'w1', 'start', 'a'), entry(3_000, 'w2', 'start', 'a')], [{ id: 'w1', at }]);
    expect(r).toEqual({
      count: 1,
      p50Ms: 3_000,
      maxMs: 3_000,
      unseen: 0,
      slowest: "job a after w1's kill: started by w2 at +3.0 s",
    });
  });

  it('counts a job the killed worker had in hand and nobody started again as unseen', () => {
    const r = measureRedelivery([entry(-50, 'w1', 'start', 'a')], [{ id: 'w1', at }]);
    expect(r.unseen).toBe(1);
  });

  it('does not count what the killed worker finished just after the kill was noted', () => {
    const r = measureRedelivery([entry(-50, 'w1', 'start', 'a'), entry(2, 'w1', 'done', 'a')], [{ id: 'w1', at }]);
    expect(r.unseen).toBe(0);
  });

  it('does not count a job another worker took over before the kill', () => {
    // w1's retry could not be released (backend down): its ledger leaves the job open, but the
    // lease ran out and w2 started and finished it before w1 was killed.
    const entries = [entry(-8_000, 'w1', 'start', 'a'), entry(-1_600, 'w2', 'start', 'a'), entry(-1_500, 'w2', 'done', 'a')];
    expect(measureRedelivery(entries, [{ id: 'w1', at }])).toMatchObject({ count: 0, unseen: 0 });
    // Started again by w1 after that: in its hand at the kill again.
    expect(measureRedelivery([...entries, entry(-500, 'w1', 'start', 'a')], [{ id: 'w1', at }]).unseen).toBe(1);
  });

  it('does not count a job found in the dead letters (dead-lettered by the killed worker before it could log it)', () => {
    const entries = [entry(-50, 'w1', 'start', 'p')];
    expect(measureRedelivery(entries, [{ id: 'w1', at }], new Set(['p'])).unseen).toBe(0);
    expect(measureRedelivery(entries, [{ id: 'w1', at }]).unseen).toBe(1);
  });
});

describe('redeliveryPath', () => {
  it('names each delivery lost to a later kill before the job started again', () => {
    const entries = [
      entry(-50, 'w1', 'start', 'a'),
      entry(10_100, 'w2', 'received', 'a'),
      entry(20_200, 'w3', 'received', 'a'),
      entry(20_300, 'w3', 'start', 'a'),
    ];
    const kills = [
      { id: 'w1', at },
      { id: 'w2', at: at + 10_900 },
    ];
    expect(redeliveryPath(entries, kills, { id: 'w1', at })).toBe(
      "job a after w1's kill: received by w2 at +10.1 s (killed at +10.9 s before starting it), started by w3 at +20.3 s",
    );
    expect(measureRedelivery(entries, kills).slowest, 'measureRedelivery explains its slowest job').toContain('w2');
  });

  it('says so when the job was never started again', () => {
    expect(redeliveryPath([entry(-50, 'w1', 'start', 'a')], [{ id: 'w1', at }], { id: 'w1', at })).toBe(
      "job a after w1's kill: never started again",
    );
  });
});
