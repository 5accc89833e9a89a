import { fileURLToPath } from 'node:url';
import { freePort } from '@bg/backends';
import { runConformance } from '@bg/conformance';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PUBSUB_CAPABILITIES, pubsubAdapter } from '../src/index.js';
import { RawInspector, withInspection } from './inspector.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

if (!endpoint) {
  describe.skip('bg conformance: pubsub [skipped: the Pub/Sub emulator is not installed: apt-get install google-cloud-cli-pubsub-emulator]', () => {
    it('needs the emulator', () => {});
  });
} else {
  const inspector = new RawInspector(endpoint, projectId);
  afterAll(() => inspector.close());
  // A port nothing listens on (taken from the OS, then released).
  const deadPort = await freePort();

  runConformance(
    { describe, it, expect, afterAll },
    {
      name: 'pubsub',
      capabilities: PUBSUB_CAPABILITIES,
      // Pub/Sub leases are whole seconds, at least 10: lease cases wait ≥ 10 s, so run them side by side.
      concurrent: true,
      createAdapter: () => withInspection(pubsubAdapter({ apiEndpoint: endpoint, projectId }), inspector),
      inspector: () => inspector,
      timing: {
        leaseMs: 10_000,
        deadlineMs: 10_000,
        quietMs: 500,
        toleranceMs: 500,
        pollMs: 100,
        // A nacked (released) message comes back through the emulator's redelivery, not at once.
        promptMs: 1_000,
        caseTimeoutMs: 60_000,
      },
      // A dead-letter policy of 5 deliveries instead of 100, so the park case runs in seconds.
      lowDeliveryCapAdapter: () =>
        withInspection(pubsubAdapter({ apiEndpoint: endpoint, projectId, maxDeliveryAttempts: 5 }), inspector),
      errors: {
        missingQueue: () => pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix: 'missing-' }),
        unreachable: () => pubsubAdapter({ apiEndpoint: `127.0.0.1:${deadPort}`, projectId, emulator: true, timeoutMs: 2_000 }),
      },
      url: {
        url: `pubsub://${projectId}?endpoint=${endpoint}`,
        malformed: [`pubsub://${projectId}?endpoint=127.0.0.1:70000`, `pubsub://${projectId}?exactlyOnce=maybe`],
      },
      workerProcess: {
        adapterModule: fileURLToPath(new URL('./worker-adapter.ts', import.meta.url)),
        env: { BG_PUBSUB_ENDPOINT: endpoint, BG_PUBSUB_PROJECT: projectId },
      },
      exclude: {
        'optional.durability':
          'the Pub/Sub emulator keeps nothing across a restart; real Pub/Sub stores every message durably (replicated across zones) until acked or retention ends',
        'errors.bad-credentials':
          'the Pub/Sub emulator accepts any (or no) credentials; UNAUTHENTICATED / PERMISSION_DENIED map to AUTH_FAILED (see adapter.test.ts)',
      },
    },
  );
}
