import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseTable } from '../src/lease-table.js';

describe('LeaseTable', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('a handle released a moment ago stays ended when the table prunes (a process up more than ten minutes)', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(700_000);
    const table = new LeaseTable();
    table.end('released-just-now');
    for (let i = 0; i <= 40_000; i++) table.set(`live-${i}`, 760_000);
    expect(table.ended('released-just-now'), 'ended() after a prune one moment after the release').toBe(true);
    // Ten minutes later it may go, like a lease that ran out then.
    now.mockReturnValue(700_000 + 600_001 + 60_000);
    table.prune(performance.now());
    expect(table.ended('released-just-now'), 'ended() after a prune eleven minutes after the release').toBe(false);
  });
});
