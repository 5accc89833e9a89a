/**
 * The network round's own proof: the black hole must catch an adapter that hangs on a dead
 * connection. A Redis adapter with no command timeout in practice (`commandTimeoutMs` of an
 * hour, as before the option existed: the `no-command-timeout` test-only breakage) must make the
 * black-hole scenario FAIL, and say that a worker never noticed the black hole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkTimings, runBlackHole } from '../src/network-scenarios.js';
import { type NetworkTarget, startNetworkTarget } from '../src/network-targets.js';

describe('the black hole proves itself on redis', () => {
  let target: NetworkTarget | undefined;
  beforeAll(async () => {
    target = await startNetworkTarget('redis', { testOnlyBreakage: 'no-command-timeout' });
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('an adapter without a command timeout hangs in the black hole: the scenario FAILS and says so', async (ctx) => {
    if (!target) return ctx.skip('redis: backend not installed');
    // The hanging workers never drain the queue: wait 3 s for that, not the scenario's 16 s
    // (the proof is the missed notice; recovery is checked with healthy adapters).
    const report = await runBlackHole({ target, ...networkTimings(target, 'ci').blackHole, recoverWithinMs: 3_000 });
    console.log(report.line);
    expect(report.problems.length, `the broken adapter passed the black hole: ${report.line}`).toBeGreaterThan(0);
    expect(report.line, 'the report line ends in FAIL').toMatch(/ — FAIL: /);
    expect(
      report.problems.some((p) => p.startsWith('a worker reported no error within')),
      `the black hole did not find the hanging worker: ${report.line}`,
    ).toBe(true);
  });
});
