import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../src/ledger.js';
import { measureRedelivery } from '../src/run-chaos.js';

const at = 1_000_000;
const entry = (t: number, w: string, e: LedgerEntry['e'], id: string): LedgerEntry => ({ t: at + t, w, e, id });

describe('measureRedelivery', () => {
  it('measures the time from a kill to the next start elsewhere', () => {
    const r = measureRedelivery([entry(-50, 'w1', 'start', 'a'), entry(3_000, 'w2', 'start', 'a')], [{ id: 'w1', at }]);
    expect(r).toEqual({ count: 1, p50Ms: 3_000, maxMs: 3_000, unseen: 0 });
  });

  it('counts a job the killed worker had in hand and nobody started again as unseen', () => {
    const r = measureRedelivery([entry(-50, 'w1', 'start', 'a')], [{ id: 'w1', at }]);
    expect(r.unseen).toBe(1);
  });

  it('does not count what the killed worker finished just after the kill was noted', () => {
    const r = measureRedelivery([entry(-50, 'w1', 'start', 'a'), entry(2, 'w1', 'done', 'a')], [{ id: 'w1', at }]);
    expect(r.unseen).toBe(0);
  });

  it('does not count a job found in the dead letters (dead-lettered by the killed worker before it could log it)', () => {
    const entries = [entry(-50, 'w1', 'start', 'p')];
    expect(measureRedelivery(entries, [{ id: 'w1', at }], new Set(['p'])).unseen).toBe(0);
    expect(measureRedelivery(entries, [{ id: 'w1', at }]).unseen).toBe(1);
  });
});
