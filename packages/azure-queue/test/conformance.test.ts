import { fileURLToPath } from 'node:url';
import { AZURE_QUEUE_CAPABILITIES, azureQueueAdapter } from '@bg/azure-queue';
import { runConformance } from '@bg/conformance';
import type { Adapter } from '@bg/core';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionString, inspector, makeAdapter, queueEndpoint, restartAzurite, skipReason } from './backend.js';

/** Points every queue-taking call of `adapter` at a queue that does not exist (same length, other name). */
function onMissingQueues(adapter: Adapter): Adapter {
  const rename = (queue: string): string => `${queue.slice(0, -1)}${queue.endsWith('z') ? 'y' : 'z'}`;
  return new Proxy(adapter, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return (queue: unknown, ...rest: unknown[]) =>
        (value as (...args: unknown[]) => unknown).call(target, typeof queue === 'string' ? rename(queue) : queue, ...rest);
    },
  });
}

/** A well-formed account key nobody uses: it must not show in the error of a malformed URL. */
const FAKE_KEY = Buffer.from('SecretKeyForConformance!').toString('base64');

if (skipReason) {
  describe.skip(`bg conformance: azure-queue [${skipReason}]`, () => {
    it('needs Azurite', () => {});
  });
} else {
  runConformance(
    { describe, it, expect, afterAll },
    {
      name: 'azure-queue (Azurite)',
      capabilities: AZURE_QUEUE_CAPABILITIES,
      concurrent: true,
      createAdapter: makeAdapter,
      inspector,
      timing: {
        // Azure visibility timeouts are whole seconds: the shortest lease is 1 s.
        leaseMs: 1_000,
        toleranceMs: 250,
        pollMs: 200,
        quietMs: 500,
        deadlineMs: 6_000,
        caseTimeoutMs: 30_000,
      },
      restartBackend: restartAzurite,
      url: {
        url: `azure-queue://?connectionString=${encodeURIComponent(connectionString())}`,
        malformed: [`azure-queue://acct?accountKey=${encodeURIComponent(FAKE_KEY)}&ttl=soon`],
        secret: FAKE_KEY,
      },
      errors: {
        missingQueue: () => onMissingQueues(makeAdapter()),
        badCredentials: () =>
          azureQueueAdapter({
            url: queueEndpoint(),
            accountName: 'devstoreaccount1',
            accountKey: Buffer.alloc(64, 7).toString('base64'),
          }),
        unreachable: () => azureQueueAdapter({ connectionString: connectionString().replace(/:\d+\//, ':1/') }),
      },
      workerProcess: {
        adapterModule: fileURLToPath(new URL('./worker-adapter.mjs', import.meta.url)),
        env: { BG_AZURE_CONNECTION_STRING: connectionString() },
      },
    },
  );
}
