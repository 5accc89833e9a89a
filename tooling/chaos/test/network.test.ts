/**
 * The network round: every adapter's workers reach a private backend through a fault proxy that
 * black-holes, resets and slows their connections (see "Network faults" in the README). Each
 * scenario's report must have no problem; its line says what it saw.
 *
 * Two lanes run side by side: Pub/Sub alone (its 10 s minimum lease makes its black hole last
 * 11.5 s and its scenarios ~40 s, mostly waiting) and the four others one after another (~60 s).
 * Within a lane, one backend and one scenario at a time. A scenario watches the whole process for
 * unhandled rejections, so one raised while both lanes run fails the scenarios of both lanes
 * (never neither); the rejection's stack in the report says which adapter raised it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkTimings, runBlackHole, runLatency, runResets } from '../src/network-scenarios.js';
import { NETWORK_ADAPTERS, type NetworkAdapterName, type NetworkTarget, startNetworkTarget } from '../src/network-targets.js';

/** The adapters of each lane; every one of {@link NETWORK_ADAPTERS} is in exactly one. */
const LANES: readonly (readonly NetworkAdapterName[])[] = [['pubsub'], NETWORK_ADAPTERS.filter((n) => n !== 'pubsub')];

function scenariosOn(name: NetworkAdapterName): void {
  // Not concurrent: within a lane, one backend and one scenario at a time.
  describe(`network faults on ${name}`, { concurrent: false }, () => {
    let target: NetworkTarget | undefined;
    beforeAll(async () => {
      target = await startNetworkTarget(name);
    });
    afterAll(async () => {
      await target?.stop();
    });

    it('black hole, then heal: errors noticed, stop and close bounded, recovery without restart, nothing lost', async (ctx) => {
      if (!target) return ctx.skip(`${name}: backend not installed`);
      const report = await runBlackHole({ target, ...networkTimings(target, 'ci').blackHole });
      console.log(report.line);
      expect(report.problems, report.line).toEqual([]);
    });

    it('connection resets, all at once and mid-reply: nothing lost, workers keep running', async (ctx) => {
      if (!target) return ctx.skip(`${name}: backend not installed`);
      const report = await runResets({ target, ...networkTimings(target, 'ci').resets });
      console.log(report.line);
      expect(report.problems, report.line).toEqual([]);
    });

    it('200 ms latency each way: leases extended in time, no duplicate run, no error', async (ctx) => {
      if (!target) return ctx.skip(`${name}: backend not installed`);
      const report = await runLatency({ target, ...networkTimings(target, 'ci').latency });
      console.log(report.line);
      expect(report.problems, report.line).toEqual([]);
    });
  });
}

describe.concurrent('network faults', () => {
  it('every network adapter is in exactly one lane', () => {
    expect([...LANES.flat()].sort(), 'LANES must cover NETWORK_ADAPTERS once each').toEqual([...NETWORK_ADAPTERS].sort());
  });
  for (const lane of LANES) {
    // Concurrent with the other lane (inherited from the parent).
    describe(`lane ${lane.join(', ')}`, () => {
      for (const name of lane) scenariosOn(name);
    });
  }
});
