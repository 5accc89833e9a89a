import { randomBytes } from 'node:crypto';
import { isBgError } from '@bg/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

/** The outcome of `call`: 'resolved', the BgError code (and retryable), or 'never settled' after 5 s. */
function outcome(call: Promise<unknown>): Promise<string> {
  const settled = call.then(
    () => 'resolved',
    (e: unknown) => (isBgError(e) ? `${e.code}${e.retryable ? ' (retryable)' : ''}: ${e.message.slice(0, 80)}` : String(e)),
  );
  return Promise.race([settled, new Promise<string>((resolve) => setTimeout(() => resolve('never settled'), 5_000).unref())]);
}

describe.skipIf(!endpoint)('close() while queue and dead-letter management calls are in flight', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('each call resolves or is CLOSED (not a retryable BACKEND_ERROR, never a hang), and nothing is left unhandled', async () => {
    process.on('unhandledRejection', onUnhandled);
    const queue = `close-mgmt-${randomBytes(4).toString('hex')}`;
    const setup = pubsubAdapter({ apiEndpoint: endpoint, projectId });
    await setup.ensureQueue(queue);
    await setup.close();
    for (let turns = 0; turns < 3; turns++) {
      const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId });
      await adapter.queueExists?.(queue); // the channel is up: the calls below reach the server
      const calls = {
        listQueues: outcome(adapter.listQueues?.() ?? Promise.resolve()),
        stats: outcome(adapter.stats(queue)),
        listDeadLetters: outcome(adapter.listDeadLetters(queue)),
        ensureQueue: outcome(adapter.ensureQueue(queue)),
      };
      for (let t = 0; t < turns; t++) await new Promise((resolve) => setImmediate(resolve));
      await adapter.close();
      for (const [call, pending] of Object.entries(calls)) {
        const got = await pending;
        expect(
          got === 'resolved' || got.startsWith('CLOSED'),
          `${call} in flight when close() came (${turns} turns after the call): ${got}`,
        ).toBe(true);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled.map(String), 'unhandled rejections (each ends a Node process)').toEqual([]);
  });
});
