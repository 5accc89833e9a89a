import { randomBytes } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { type AzureQueueAdapter, type AzureQueueAdapterOptions, azureQueueAdapter } from '@bg/azure-queue';
import { isBgError } from '@bg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionString, rawService, skipReason } from './backend.js';

// Fixes of the cloud-adapter audit (one test per finding; each failed before its fix).

const opened: AzureQueueAdapter[] = [];
const originalReceive = QueueClient.prototype.receiveMessages;
afterEach(async () => {
  QueueClient.prototype.receiveMessages = originalReceive;
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

function adapter(options: Omit<AzureQueueAdapterOptions, 'connectionString'> = {}): AzureQueueAdapter {
  const a = azureQueueAdapter({ connectionString: connectionString(), ...options });
  opened.push(a);
  return a;
}

function queueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isBgError(error)) return { code: error.code, retryable: error.retryable, message: error.message };
    throw error;
  }
  return { code: 'NO ERROR', retryable: false, message: 'resolved' };
}

/** Writes `n` foreign records straight into the poison queue of `queue`. */
async function fillPoison(queue: string, n: number): Promise<void> {
  const poison = rawService().getQueueClient(`${queue}-poison`);
  for (let i = 0; i < n; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => poison.sendMessage(`foreign dead letter ${i + j}`)));
  }
}

describe.skipIf(skipReason !== undefined)('@bg/azure-queue audit fixes (Azurite)', () => {
  it('a poison-queue scan that outlasts scanVisibilitySeconds ends (it used to receive the same records for ever)', async () => {
    const a = adapter({ scanVisibilitySeconds: 1 });
    const q = queueName();
    await a.ensureQueue(q);
    await fillPoison(q, 500);
    // 150 ms per receive, as on a link to Azure: a full pass (16 receives) outlasts the 1 s visibility.
    QueueClient.prototype.receiveMessages = async function (this: QueueClient, ...args) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return originalReceive.apply(this, args);
    };
    const start = Date.now();
    const outcome = await Promise.race([
      a.listDeadLetters(q, { limit: 5 }).then((page) => page.items.length),
      new Promise<string>((resolve) => setTimeout(() => resolve('still scanning after 10 s'), 10_000)),
    ]);
    expect(outcome, `listDeadLetters on 500 records, scanVisibilitySeconds 1 (${Date.now() - start} ms)`).toBe(5);
  });

  it('a poison-queue scan reads at most scanLimit records', async () => {
    const a = adapter({ scanLimit: 40 });
    const q = queueName();
    await a.ensureQueue(q);
    await fillPoison(q, 100);
    let received = 0;
    QueueClient.prototype.receiveMessages = async function (this: QueueClient, ...args) {
      const answer = await originalReceive.apply(this, args);
      received += answer.receivedMessageItems.length;
      return answer;
    };
    const page = await a.listDeadLetters(q, { limit: 100 });
    expect(received, `listDeadLetters of 100 records with scanLimit 40: records received`).toBeLessThanOrEqual(40);
    expect(page.items.length, 'listDeadLetters with scanLimit 40: records listed').toBe(40);
  });

  it("refuses bg queue names ending in '-poison' (they are another queue's dead-letter queue)", async () => {
    const a = adapter();
    const base = queueName('orders');
    for (const [call, run] of [
      ['ensureQueue', () => a.ensureQueue(`${base}-poison`)],
      ['send', () => a.send(`${base}-poison`, [{ id: 'x', body: 'y' }])],
      ['receive', () => a.receive(`${base}-poison`, { max: 1, leaseMs: 1_000 })],
    ] as const) {
      const got = await failure(run());
      expect(got, `${call}('${base}-poison'): ${got.message}`).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
      expect(got.message, `${call}('${base}-poison') names the reason`).toMatch(/dead-letter queue/);
    }
  });

  it('refuses bad options at construction with INVALID_ARGUMENT naming the option', () => {
    const cases: [string, Omit<AzureQueueAdapterOptions, 'connectionString'>][] = [
      ['messageTimeToLiveSeconds', { messageTimeToLiveSeconds: 0 }],
      ['messageTimeToLiveSeconds', { messageTimeToLiveSeconds: 1.5 }],
      ['messageTimeToLiveSeconds', { messageTimeToLiveSeconds: -5 }],
      ['pollIntervalMs.min', { pollIntervalMs: { min: Number.NaN } }],
      ['pollIntervalMs.max', { pollIntervalMs: { min: 100, max: 50 } }],
      ['scanVisibilitySeconds', { scanVisibilitySeconds: Number.NaN }],
      ['scanLimit', { scanLimit: 0 }],
    ];
    for (const [name, options] of cases) {
      let got: { code: string; retryable: boolean; message: string } = { code: 'ACCEPTED', retryable: false, message: '' };
      try {
        adapter(options);
      } catch (error) {
        if (!isBgError(error)) throw error;
        got = { code: error.code, retryable: error.retryable, message: error.message };
      }
      expect(got, `azureQueueAdapter(${JSON.stringify(options)}): ${got.message}`).toMatchObject({
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
      expect(got.message, `azureQueueAdapter(${JSON.stringify(options)}) names the option`).toContain(name);
    }
  });

  it('with a message TTL, a delay the TTL would outlive is refused (DELAY_TOO_LONG; the core hops it) instead of expiring the job', async () => {
    const a = adapter({ messageTimeToLiveSeconds: 60 });
    expect(a.capabilities.maxDelayMs, 'capabilities.maxDelayMs with messageTimeToLiveSeconds 60').toBe(59_000);
    const q = queueName();
    await a.ensureQueue(q);
    const got = await failure(a.send(q, [{ id: 'x', body: 'y', delayMs: 120_000 }]));
    expect(got, `send(delayMs 120 000) with messageTimeToLiveSeconds 60: ${got.message}`).toMatchObject({
      code: 'DELAY_TOO_LONG',
    });
  });
});
