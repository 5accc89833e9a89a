import { deadEndpoint } from '@bg/backends/sqs';
import { runConformance } from '@bg/conformance';
import { sqsAdapter } from '@bg/sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { CREDENTIALS, endpoint, inspector, makeAdapter, skipReason } from './backend.js';

const dead = await deadEndpoint();

if (skipReason) {
  describe.skip(`sqs conformance [skipped: ${skipReason}]`, () => {
    it('needs fauxqs', () => {});
  });
} else {
  const probe = makeAdapter();
  const capabilities = probe.capabilities;
  await probe.close();
  runConformance(
    { describe, it, expect, afterAll },
    {
      name: 'sqs (fauxqs)',
      capabilities,
      concurrent: true,
      createAdapter: () => makeAdapter(),
      inspector,
      // SQS counts visibility, delays and long polls in whole seconds.
      timing: { leaseMs: 1_000, pollMs: 1_000, quietMs: 1_000, toleranceMs: 250, deadlineMs: 10_000, caseTimeoutMs: 40_000 },
      errors: {
        // The same emulator, but queue names under a prefix nobody created.
        missingQueue: () => makeAdapter({ queueNamePrefix: 'missing-' }),
        unreachable: () =>
          sqsAdapter({ endpoint: dead, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 2, connectTimeoutMs: 1_000 }),
        // badCredentials: fauxqs accepts any credentials, so the case is skipped (see README).
      },
      workerProcess: {
        adapterModule: new URL('./worker-adapter.ts', import.meta.url).pathname,
        env: { BG_SQS_ENDPOINT: endpoint() },
      },
    },
  );
}
