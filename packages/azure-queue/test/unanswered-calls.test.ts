import { randomBytes } from 'node:crypto';
import { type AzureQueueAdapter, type AzureQueueAdapterOptions, azureQueueAdapter } from '@bg/azure-queue';
import {
  type Settled,
  type SilentEndpoint,
  settleWithin,
  silentEndpoint,
  unreachableProblem,
  unreachableProblems,
} from '@bg/backends/silent-endpoint';
import type { ReceivedMessage } from '@bg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionString, skipReason } from './backend.js';

// An endpoint that accepts TCP and never answers used to hang every call for half an hour and
// more: the SDK passes `tryTimeoutInMs` to the server only (`timeout=`) and never gives up on
// a try itself. Every call now fails with UNREACHABLE once a try has had no answer for
// `tryTimeoutInMs`.

/** A well-formed account key (base64) that no server checks here. */
const ACCOUNT_KEY = Buffer.alloc(64, 7).toString('base64');
const ACCOUNT = 'devstoreaccount1';
const SAS = 'sv=2020-08-04&ss=q&srt=sco&sp=rwdlacup&se=2099-01-01T00:00:00Z&sig=c2lnbmF0dXJl';
/** A 1 s try timeout keeps each case to a few seconds (the default is 10 s). */
const FAST: Pick<AzureQueueAdapterOptions, 'pipelineOptions'> = { pipelineOptions: { retryOptions: { tryTimeoutInMs: 1_000 } } };

const endpoints: SilentEndpoint[] = [];
const adapters: AzureQueueAdapter[] = [];

afterEach(async () => {
  // The endpoints first: a call still waiting (the old code) then fails, so close() can end.
  await Promise.all(endpoints.splice(0).map((e) => e.close()));
  await Promise.all(adapters.splice(0).map((a) => a.close()));
});

async function silent(forwardTo?: string): Promise<SilentEndpoint> {
  const e = await silentEndpoint(forwardTo);
  endpoints.push(e);
  return e;
}

function open(options: AzureQueueAdapterOptions): AzureQueueAdapter {
  const a = azureQueueAdapter(options);
  adapters.push(a);
  return a;
}

/** Asserts that `settled` is a retryable UNREACHABLE, saying what happened otherwise. */
function expectUnreachable(what: string, settled: Settled): void {
  expect(unreachableProblem(what, settled), what).toBeUndefined();
}

describe('azure-queue calls to an endpoint that never answers', () => {
  it('stats, send, listQueues, queueExists, ensureQueue, receive and listDeadLetters fail with UNREACHABLE after tryTimeoutInMs', async () => {
    const server = await silent();
    const a = open({
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};QueueEndpoint=${server.url}/${ACCOUNT};`,
      ...FAST,
    });
    const problems = await unreachableProblems(a, { waitMs: 500, withinMs: 6_000, label: 'tryTimeoutInMs 1000' });
    expect(server.connections(), 'the calls never reached the silent endpoint').toBeGreaterThan(0);
    expect(problems, 'calls that did not fail with a retryable UNREACHABLE in time').toEqual([]);
  });

  it('every way to connect gets the try timeout: account key, SAS URL, SAS connection string', async () => {
    const server = await silent();
    const ways: [string, AzureQueueAdapterOptions][] = [
      ['url + accountName + accountKey', { url: `${server.url}/${ACCOUNT}`, accountName: ACCOUNT, accountKey: ACCOUNT_KEY }],
      ['SAS url', { url: `${server.url}/${ACCOUNT}?${SAS}` }],
      ['SAS connection string', { connectionString: `QueueEndpoint=${server.url}/${ACCOUNT};SharedAccessSignature=${SAS}` }],
    ];
    for (const [way, options] of ways) {
      const a = open({ ...options, ...FAST });
      // stats reads the queue and its poison queue (two queue clients), listQueues the service.
      const [stats, list] = await Promise.all([
        settleWithin(a.stats('emails'), 5_000),
        settleWithin(a.listQueues?.() ?? Promise.reject(new Error('no listQueues')), 5_000),
      ]);
      expectUnreachable(`stats (${way})`, stats);
      expectUnreachable(`listQueues (${way})`, list);
    }
  });

  it.skipIf(skipReason !== undefined)(
    "a worker's ack, extend, deadLetter and receive fail with UNREACHABLE when Azure stops answering mid-way",
    async () => {
      const azurite = connectionString();
      const queueEndpoint = /QueueEndpoint=(https?:\/\/[^/;]+)/.exec(azurite)?.[1];
      expect(queueEndpoint, `no QueueEndpoint in the Azurite connection string ${azurite}`).toBeDefined();
      const relay = await silent(queueEndpoint);
      const a = open({ connectionString: azurite.replace(queueEndpoint as string, relay.url), ...FAST });
      const queue = `t-${randomBytes(5).toString('hex')}`;
      await a.ensureQueue(queue);
      await a.send(queue, [
        { id: 'j1', body: 'one' },
        { id: 'j2', body: 'two' },
        { id: 'j3', body: 'three' },
      ]);
      const got: ReceivedMessage[] = [];
      for (let round = 0; got.length < 3 && round < 20; round++) {
        got.push(...(await a.receive(queue, { max: 3, leaseMs: 30_000, waitMs: 200 })));
      }
      expect(got.map((m) => m.id).sort(), 'received through the relay before it went silent').toEqual(['j1', 'j2', 'j3']);
      const [first, second, third] = got as [ReceivedMessage, ReceivedMessage, ReceivedMessage];

      relay.silence();
      expectUnreachable('ack', await settleWithin(a.ack(queue, first.handle), 5_000));
      expectUnreachable('extend', await settleWithin(a.extend(queue, second.handle, 60_000), 5_000));
      const info = { reason: 'manual' as const, attempts: 1, deadLetteredAt: Date.now() };
      expectUnreachable('deadLetter', await settleWithin(a.deadLetter(queue, third, info), 5_000));
      expectUnreachable('receive', await settleWithin(a.receive(queue, { max: 1, leaseMs: 5_000, waitMs: 1_000 }), 5_000));
    },
  );
});
