import { deadEndpoint } from '@bg/backends/sqs';
import { runConformance } from '@bg/conformance';
import { sqsAdapter } from '@bg/sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { CREDENTIALS, endpoint, inspector, makeAdapter, refusingAdapter, skipReason } from './backend.js';

/**
 * Registers the conformance suite for standard (`fifo` false) or FIFO queues on fauxqs. Each
 * kind has its own test file, so that vitest runs the two side by side (`maxWorkers` in
 * vitest.config.ts): most of their time is spent waiting out whole-second SQS timings.
 */
export async function runSqsConformance(fifo: boolean): Promise<void> {
  if (skipReason) {
    describe.skip(`sqs${fifo ? ' FIFO' : ''} conformance [skipped: ${skipReason}]`, () => {
      it('needs fauxqs', () => {});
    });
    return;
  }
  const dead = await deadEndpoint();
  const probe = makeAdapter({ fifo });
  const capabilities = probe.capabilities;
  await probe.close();
  runConformance(
    { describe, it, expect, afterAll },
    {
      name: fifo ? 'sqs FIFO (fauxqs)' : 'sqs (fauxqs)',
      capabilities,
      concurrent: true,
      queuePrefix: fifo ? 'fifo' : 'conf',
      createAdapter: () => makeAdapter({ fifo }),
      inspector,
      // SQS counts visibility, delays and long polls in whole seconds.
      timing: {
        leaseMs: 1_000,
        pollMs: 1_000,
        quietMs: 1_000,
        toleranceMs: 250,
        promptMs: 1_000,
        deadlineMs: 10_000,
        caseTimeoutMs: 40_000,
      },
      errors: {
        // The same emulator, but queue names under a prefix nobody created.
        missingQueue: () => makeAdapter({ fifo, queueNamePrefix: 'missing-' }),
        unreachable: () =>
          sqsAdapter({
            fifo,
            endpoint: dead,
            region: 'us-east-1',
            credentials: CREDENTIALS,
            maxAttempts: 2,
            connectTimeoutMs: 1_000,
          }),
        refusedEntry: () => refusingAdapter({ fifo }),
        // badCredentials: fauxqs accepts any credentials, so the case is skipped (see README).
      },
      url: {
        url: `sqs://?endpoint=${encodeURIComponent(endpoint())}${fifo ? '&fifo=true' : ''}`,
        malformed: [`sqs://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY@us-east-1?fifo=yes`],
        secret: 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY',
      },
      exclude: {
        'stats.expired-lease':
          'fauxqs moves a message whose visibility timeout ran out back to the visible count only on the next ReceiveMessage (GetQueueAttributes does not process its timers); real SQS updates its approximate counts by itself, within about a minute',
        'stats.delay-due':
          'fauxqs moves a delayed message whose delay ran out to the visible count only on the next ReceiveMessage (GetQueueAttributes does not process its timers); real SQS updates its approximate counts by itself, within about a minute',
        'optional.durability':
          'fauxqs keeps messages in memory and cannot restart with its data; real SQS stores every message redundantly across availability zones until deleted or its retention ends',
        // Skipped anyway on standard queues (no deduplication in their manifest).
        'optional.deduplication-across-instances':
          'SQS FIFO drops a duplicate sent by another process but answers it only with the original MessageId, which this adapter instance never saw: it cannot report duplicate: true (the README says so)',
      },
      workerProcess: {
        adapterModule: new URL('./worker-adapter.ts', import.meta.url).pathname,
        env: { BG_SQS_ENDPOINT: endpoint(), ...(fifo ? { BG_SQS_FIFO: '1' } : {}) },
      },
    },
  );
}
