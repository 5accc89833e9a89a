import { randomBytes } from 'node:crypto';
import { type AzureQueueAdapter, type AzureQueueAdapterOptions, azureQueueAdapter, deadLetterQueueName } from '@bg/azure-queue';
import { receiveUntil } from '@bg/backends';
import { type DeadLetterInfo, isBgError, type ReceivedMessage } from '@bg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionString, rawService, skipReason } from './backend.js';

// Fixes of the second outside audit of @bg/azure-queue (one test per finding; each failed before its fix).

const opened: AzureQueueAdapter[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

function adapter(options: Omit<AzureQueueAdapterOptions, 'connectionString'> = {}): AzureQueueAdapter {
  const a = azureQueueAdapter({ connectionString: connectionString(), pollIntervalMs: { min: 25, max: 200 }, ...options });
  opened.push(a);
  return a;
}

function queueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const deadInfo = (): DeadLetterInfo => ({ reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });

describe.skipIf(skipReason !== undefined)('@bg/azure-queue audit round two (Azurite)', () => {
  it('checks pipelineOptions.retryOptions at construction (INVALID_ARGUMENT naming the option)', () => {
    const cases: [string, AzureQueueAdapterOptions['pipelineOptions']][] = [
      // Node fires a timer above 2^31 - 1 ms after 1 ms: every call failed with UNREACHABLE at once.
      ['tryTimeoutInMs', { retryOptions: { tryTimeoutInMs: 3e9 } }],
      // NaN turned the client-side try timeout off: a call to a server that never answers waited for ever.
      ['tryTimeoutInMs', { retryOptions: { tryTimeoutInMs: Number.NaN } }],
      ['maxTries', { retryOptions: { maxTries: 0 } }],
      ['retryDelayInMs', { retryOptions: { retryDelayInMs: -5 } }],
    ];
    for (const [name, pipelineOptions] of cases) {
      let got: { code: string; retryable: boolean; message: string } = {
        code: 'ACCEPTED',
        retryable: false,
        message: 'accepted',
      };
      try {
        adapter({ pipelineOptions });
      } catch (error) {
        if (!isBgError(error)) throw error;
        got = { code: error.code, retryable: error.retryable, message: error.message };
      }
      const call = `azureQueueAdapter({ pipelineOptions: ${String(JSON.stringify(pipelineOptions))} })`;
      expect(got, `${call} must be refused at construction: ${got.message}`).toMatchObject({
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
      expect(got.message, `${call}: the error names the option`).toContain(`pipelineOptions.retryOptions.${name}`);
    }
  });

  it('stats().dead counts the dead letters a scan of another process holds (it counted only the visible ones: 2 of 5)', async () => {
    const a = adapter();
    const queue = queueName('dead-count');
    await a.ensureQueue(queue);
    await a.send(
      queue,
      [1, 2, 3, 4, 5].map((i) => ({ id: `job-${i}`, body: `b${i}` })),
    );
    const got = await receiveUntil(a, queue, 5);
    for (const m of got) {
      await a.deadLetter(queue, m, deadInfo());
      await a.ack(queue, m.handle);
    }
    expect((await a.stats(queue)).dead, 'stats().dead with 5 dead letters stored').toBe(5);
    // Another process's replay or purge (or a scan that crashed) holds 3 records invisible.
    const poison = rawService().getQueueClient(deadLetterQueueName(queue));
    const held = await poison.receiveMessages({ numberOfMessages: 3, visibilityTimeout: 30 });
    expect(held.receivedMessageItems.length, 'the raw client holds 3 dead letters').toBe(3);
    expect((await a.stats(queue)).dead, 'stats().dead while a scan holds 3 of the 5 dead letters').toBe(5);
  });

  it('a body with a lone surrogate comes back as sent, live and dead-lettered (it came back with U+FFFD)', async () => {
    const a = adapter();
    const queue = queueName('lone');
    await a.ensureQueue(queue);
    const body = 'half an emoji: \uD83D, a low half \uDE00, then text';
    await a.send(queue, [{ id: 'lone', body }]);
    const [got] = await receiveUntil(a, queue, 1);
    expect(got?.body, 'receive() of a body holding lone surrogates returns it byte for byte').toBe(body);
    await a.deadLetter(queue, got as ReceivedMessage, deadInfo());
    expect((await a.getDeadLetter(queue, 'lone'))?.body, 'the dead letter keeps the lone surrogates too').toBe(body);
  });
});
