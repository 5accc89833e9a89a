import { idleScenario, median } from '@bg/backends';
import { describe, expect, inject, it } from 'vitest';
import { countRequests } from '../bench/request-count.js';
import { pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

describe.skipIf(!endpoint)('pubsub idle queues', () => {
  it('one worker process serving 5 idle queues costs at most 1 request per second per queue; an enqueue into an idle queue starts within one pull interval', async () => {
    // Every data-plane request of the process's v1 clients, counted by wrapping their methods.
    const counter = countRequests();
    const requests = () => Object.entries(counter.counts()).reduce((n, [k, v]) => (/ max$| empty$/.test(k) ? n : n + v), 0);
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId });
    const queues = Array.from({ length: 5 }, (_, i) => `idle-${i}-${Date.now().toString(36)}`);
    try {
      const { used, seconds, latencies } = await idleScenario(adapter, queues, requests, {
        seconds: 10,
        settleMs: 3_000,
        jobs: 3,
      });
      console.log(`pubsub idle: ${queues.length} queues, ${used} requests in ${seconds} s`);
      // At most one pull per second per queue: a window of s seconds holds at most s + 1 of each.
      const bound = queues.length * (seconds + 1);
      expect(
        used,
        `${queues.length} idle queues over ${seconds} s must cost ≤ 1 request/s/queue (≤ ${bound}); they cost ${used}`,
      ).toBeLessThanOrEqual(bound);
      const p50 = median(latencies);
      console.log(
        `pubsub idle: enqueue call → handler start p50 ${p50.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      );
      expect(
        p50,
        `enqueue into an idle queue → handler start: p50 ${p50.toFixed(1)} ms (a pull every pollIntervalMs, 1 s, at most); all: ${latencies.map((l) => l.toFixed(0)).join(', ')}`,
      ).toBeLessThan(5_000);
    } finally {
      await adapter.close();
    }
  }, 90_000);
});
