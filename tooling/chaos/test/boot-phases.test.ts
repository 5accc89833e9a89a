import { describe, expect, it } from 'vitest';
import { bootTimings, median } from '../src/boot-phases.js';
import type { LedgerEntry } from '../src/ledger.js';

const forkedAt = 1_000_000;
const boot = (t: number, phase: string, cpu: number): LedgerEntry => ({ t: forkedAt + t, w: 'w1', e: 'boot', phase, cpu });

describe('bootTimings', () => {
  it('reads each milestone of one worker as ms since its fork, with its CPU time, and the first job', () => {
    const entries: LedgerEntry[] = [
      boot(20, 'process', 0),
      boot(150, 'main', 120),
      { t: forkedAt + 160, w: 'w2', e: 'boot', phase: 'adapter', cpu: 1 }, // another worker
      boot(400, 'adapter', 330),
      boot(450, 'ensure-queue', 350),
      boot(451, 'receive', 351),
      boot(470, 'received', 360),
      { t: forkedAt + 480, w: 'w1', e: 'start', id: 'a', attempt: 1 },
      { t: forkedAt + 900, w: 'w1', e: 'start', id: 'b', attempt: 1 },
    ];
    const b = bootTimings(entries, 'w1', forkedAt);
    expect(b.wall).toEqual({
      process: 20,
      main: 150,
      adapter: 400,
      'ensure-queue': 450,
      receive: 451,
      received: 470,
      'first-job': 480,
    });
    expect(b.cpu.receive, 'CPU time at the first receive').toBe(351);
    expect(b.cpu['first-job'], 'CPU is not measured at the first job').toBeUndefined();
  });

  it('leaves milestones a worker never reached undefined (killed while booting)', () => {
    const b = bootTimings([boot(20, 'process', 0), boot(150, 'main', 120)], 'w1', forkedAt);
    expect(b.wall.main).toBe(150);
    expect(b.wall.adapter, 'no adapter milestone was written').toBeUndefined();
    expect(b.wall['first-job']).toBeUndefined();
  });
});

describe('median', () => {
  it('ignores undefined values and averages the middle pair of an even count', () => {
    expect(median([3, undefined, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([undefined])).toBeUndefined();
  });
});
