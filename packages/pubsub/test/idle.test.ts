import { expectIdleCost, idleScenario } from '@bg/backends';
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
      const measure = await idleScenario(adapter, queues, requests, { seconds: 10, settleMs: 3_000, jobs: 3 });
      // One pull a second (pollIntervalMs); a send through the adapter ends the pause.
      expectIdleCost(expect, 'pubsub', measure, { queues: queues.length, unit: 'request', startMs: 5_000, fencepost: true });
    } finally {
      await adapter.close();
    }
  }, 90_000);
});
