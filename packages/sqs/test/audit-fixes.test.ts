import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  type ReceiveMessageCommandInput,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { isBgError, setWarningSink } from '@bg/core';
import { type SqsAdapter, type SqsAdapterOptions, sqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS, inspector, makeAdapter, rawClient, skipReason } from './backend.js';

// Fixes of the cloud-adapter audit (one test per finding; each failed before its fix).

const opened: SqsAdapter[] = [];
function adapter(options: SqsAdapterOptions = {}): SqsAdapter {
  const a = makeAdapter(options);
  opened.push(a);
  return a;
}
afterEach(async () => {
  setWarningSink(undefined);
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

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

function construction(options: SqsAdapterOptions): { code: string; retryable: boolean; message: string } {
  try {
    opened.push(makeAdapter(options));
  } catch (error) {
    if (isBgError(error)) return { code: error.code, retryable: error.retryable, message: error.message };
    throw error;
  }
  return { code: 'ACCEPTED', retryable: false, message: 'accepted' };
}

describe.skipIf(skipReason !== undefined)('@bg/sqs audit fixes (fauxqs)', () => {
  it('close() waits for a send in flight instead of destroying the client under it: 30 jobs are stored once each', async () => {
    const a = makeAdapter();
    const q = queueName();
    await a.ensureQueue(q);
    const messages = Array.from({ length: 30 }, (_, i) => ({ id: `j${i}`, body: 'x'.repeat(200_000) }));
    const sending = failure(a.send(q, messages));
    await new Promise((resolve) => setImmediate(resolve));
    const closing = a.close();
    const late = await failure(a.send(q, [{ id: 'late', body: 'x' }]));
    const sent = await sending;
    await closing;
    expect(sent.code, 'send(30 × 200 KB) in flight when close() starts must complete').toBe('NO ERROR');
    expect(late.code, 'send() called after close() started must be CLOSED').toBe('CLOSED');
    const stored = await inspector(a).liveCount(q);
    expect(stored, `close() under a send of 30 jobs: SQS must store each once (stored ${stored})`).toBe(30);
  });

  it('FIFO: a replayed dead letter goes back into its ordering group (bg-ordering-key), held back while the group is busy', async () => {
    const a = adapter({ fifo: true });
    const q = queueName('fifo');
    await a.ensureQueue(q);
    const attributes = { 'bg-type': 'acct.job', 'bg-ordering-key': 'acct-9' };
    await a.send(q, [{ id: 'r1', body: 'replayed', attributes, orderingKey: 'acct-9' }]);
    const [first] = await a.receive(q, { max: 1, leaseMs: 30_000, waitMs: 2_000 });
    expect(first?.id).toBe('r1');
    await a.deadLetter(q, first as NonNullable<typeof first>, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await a.ack(q, (first as NonNullable<typeof first>).handle);
    // The group acct-9 is busy: b2 is held (leased, not acked).
    await a.send(q, [{ id: 'b2', body: 'busy', attributes, orderingKey: 'acct-9' }]);
    const [busy] = await a.receive(q, { max: 1, leaseMs: 30_000, waitMs: 2_000 });
    expect(busy?.id).toBe('b2');
    expect(await a.replayDeadLetter(q, 'r1'), 'replayDeadLetter(r1)').toBe(true);
    const meanwhile = await a.receive(q, { max: 10, leaseMs: 30_000, waitMs: 1_000 });
    expect(
      meanwhile.map((m) => m.id),
      'a replayed job of ordering key acct-9 must wait while b2 of the same key is held (it went to a group of its own)',
    ).toEqual([]);
    await a.ack(q, (busy as NonNullable<typeof busy>).handle);
    const [after] = await a.receive(q, { max: 1, leaseMs: 30_000, waitMs: 2_000 });
    expect(after?.id, 'the replayed job once its group is free').toBe('r1');
  });

  it('FIFO: one send split by size goes out one SendMessageBatch after another, keeping the group order', async () => {
    const a = adapter({ fifo: true });
    let inFlight = 0;
    let most = 0;
    a.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'SendMessageBatchCommand') return next(args);
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          const input = args.input as SendMessageBatchCommandInput;
          // The batch holding the big first message is slower on the wire, as a bigger upload is.
          if (input.Entries?.some((e) => (e.MessageBody?.length ?? 0) > 700_000)) {
            await new Promise((resolve) => setTimeout(resolve, 150));
          }
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: 'watchSendBatches' },
    );
    const q = queueName('fifo');
    await a.ensureQueue(q);
    const messages = [
      { id: 'm0', body: 'x'.repeat(770_000), orderingKey: 'user-1' },
      { id: 'm1', body: 'y'.repeat(300_000), orderingKey: 'user-1' },
      ...Array.from({ length: 8 }, (_, i) => ({ id: `m${i + 2}`, body: 'z', orderingKey: 'user-1' })),
    ];
    await a.send(q, messages);
    expect(most, 'FIFO send split in 2 batches: SendMessageBatch calls in flight at once').toBe(1);
    const order: string[] = [];
    const end = Date.now() + 10_000;
    while (order.length < messages.length && Date.now() < end) {
      for (const m of await a.receive(q, { max: 10, leaseMs: 30_000, waitMs: 1_000 })) {
        order.push(m.id);
        await a.ack(q, m.handle);
      }
    }
    expect(order, 'FIFO group user-1 must come back in send order').toEqual(messages.map((m) => m.id));
  });

  it('ensureQueue on queues created outside bg with other attributes uses them (warns once) instead of failing', async () => {
    const raw = rawClient();
    const q = queueName('orders');
    const a = adapter();
    await raw.send(new CreateQueueCommand({ QueueName: a.sqsQueueName(q) }));
    await raw.send(new CreateQueueCommand({ QueueName: a.sqsDeadLetterQueueName(q) }));
    const warnings: string[] = [];
    setWarningSink((line) => warnings.push(line));
    const ensured = await failure(a.ensureQueue(q));
    expect(ensured.code, `ensureQueue(${q}) on existing queues with SQS default attributes: ${ensured.message}`).toBe('NO ERROR');
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'job', body: 'b' }]);
    expect(await inspector(a).liveCount(q), 'send after ensureQueue on an existing queue').toBe(1);
    expect(
      warnings.filter((w) => w.includes(a.sqsDeadLetterQueueName(q))),
      'one warning per existing queue and process, naming it',
    ).toHaveLength(1);
  });

  it('a request SQS refuses as such (sender fault: InvalidParameterValue) is not retryable', async () => {
    const client = rawClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'GetQueueAttributesCommand') return next(args);
        // As the SDK throws a 400 sender fault of SQS (fauxqs has no way to provoke one here).
        throw Object.assign(new Error('Value 99 for parameter MaxNumberOfMessages is invalid.'), {
          name: 'InvalidParameterValue',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      },
      { step: 'initialize', name: 'senderFault' },
    );
    const a = adapter({ client });
    const q = queueName();
    await a.ensureQueue(q);
    const got = await failure(a.stats(q));
    expect(got, `stats() failing with InvalidParameterValue: ${got.message}`).toMatchObject({
      code: 'BACKEND_ERROR',
      retryable: false,
    });
    client.destroy();
  });

  it('a dead-letter scan that outlasts its visibility timeout ends (it used to receive the same records for ever)', async () => {
    const a = adapter({ deadLetterScanVisibilitySeconds: 1 });
    const q = queueName();
    await a.ensureQueue(q);
    const raw = rawClient();
    const { QueueUrl } = await raw.send(new GetQueueUrlCommand({ QueueName: a.sqsDeadLetterQueueName(q) }));
    const n = 300;
    await Promise.all(
      Array.from({ length: n / 10 }, (_, b) =>
        raw.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: `dead ${b * 10 + j}` })),
          }),
        ),
      ),
    );
    // 50 ms per ReceiveMessage, as on a link to SQS: a full pass (30 receives) outlasts the 1 s visibility.
    a.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') await new Promise((resolve) => setTimeout(resolve, 50));
        return next(args);
      },
      { step: 'initialize', name: 'slowReceives' },
    );
    const start = Date.now();
    const outcome = await Promise.race([
      a.listDeadLetters(q, { limit: 5 }).then((page) => page.items.length),
      new Promise<string>((resolve) => setTimeout(() => resolve('still scanning after 8 s'), 8_000)),
    ]);
    expect(outcome, `listDeadLetters on ${n} records, scan visibility 1 s (${Date.now() - start} ms)`).toBe(5);
  });

  it("refuses bg queue names ending in the dead-letter suffix (they are another queue's dead-letter queue)", async () => {
    const a = adapter();
    const base = queueName('orders');
    for (const [call, run] of [
      ['ensureQueue', () => a.ensureQueue(`${base}-dlq`)],
      ['send', () => a.send(`${base}-dlq`, [{ id: 'x', body: 'y' }])],
      ['receive', () => a.receive(`${base}-dlq`, { max: 1, leaseMs: 1_000 })],
    ] as const) {
      const got = await failure(run());
      expect(got, `${call}('${base}-dlq'): ${got.message}`).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
      expect(got.message, `${call}('${base}-dlq') names the reason`).toMatch(/dead-letter/);
    }
    const custom = adapter({ deadLetterSuffix: '-dead' });
    const got = await failure(custom.ensureQueue(`${base}-dead`));
    expect(got.code, "ensureQueue('<base>-dead') with deadLetterSuffix '-dead'").toBe('INVALID_ARGUMENT');
  });

  it('refuses bad options at construction with INVALID_ARGUMENT naming the option', () => {
    const cases: [string, SqsAdapterOptions][] = [
      ['deadLetterSuffix', { deadLetterSuffix: '' }],
      ['ownershipMarginMs', { ownershipMarginMs: -60_000 }],
      ['ownershipMarginMs', { ownershipMarginMs: Number.NaN }],
      ['deadLetterScanVisibilitySeconds', { deadLetterScanVisibilitySeconds: 0 }],
      ['deadLetterScanLimit', { deadLetterScanLimit: 0 }],
      ['queueNamePrefix', { queueNamePrefix: 'my env/' }],
      ['queueNamePrefix', { queueNamePrefix: 'p'.repeat(75) }],
      ['astralText', { astralText: 'RAW' as 'raw' }],
      ['maxAttempts', { maxAttempts: 0 }],
      ['connectTimeoutMs', { connectTimeoutMs: -1 }],
      ['requestTimeoutMs', { requestTimeoutMs: Number.NaN }],
      ['fifo', { fifo: 'false' as unknown as boolean }],
    ];
    for (const [name, options] of cases) {
      const got = construction(options);
      expect(got, `sqsAdapter(${JSON.stringify(options)}): ${got.message}`).toMatchObject({
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
      expect(got.message, `sqsAdapter(${JSON.stringify(options)}) names the option`).toContain(name);
    }
  });

  it('a queue name whose SQS dead-letter name would exceed 80 characters is INVALID_ARGUMENT', async () => {
    const a = adapter({ queueNamePrefix: 'p'.repeat(40) });
    const got = await failure(a.ensureQueue(`a${'b'.repeat(47)}`));
    expect(got, `ensureQueue of a 48-char name under a 40-char prefix: ${got.message}`).toMatchObject({
      code: 'INVALID_ARGUMENT',
      retryable: false,
    });
  });

  it('long polls stay below requestTimeoutMs (WaitTimeSeconds capped at requestTimeoutMs − 5 s)', async () => {
    const a = adapter({ requestTimeoutMs: 6_000 });
    const waits: number[] = [];
    a.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') {
          waits.push((args.input as ReceiveMessageCommandInput).WaitTimeSeconds ?? 0);
        }
        return next(args);
      },
      { step: 'initialize', name: 'watchWaits' },
    );
    const q = queueName();
    await a.ensureQueue(q);
    expect(await a.receive(q, { max: 1, leaseMs: 30_000, waitMs: 2_000 }), 'idle receive').toEqual([]);
    expect(Math.max(...waits), `receive({waitMs: 2000}) with requestTimeoutMs 6000: WaitTimeSeconds asked ${waits}`).toBe(1);
  });

  it('release never shortens its delay at the 12 h visibility cap: DELAY_TOO_LONG instead', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'long-job', body: 'x' }]);
    const [m] = await a.receive(q, { max: 1, leaseMs: 60_000, waitMs: 1_000 });
    if (!m) throw new Error('no message received');
    // The delivery as if received 11 h 59 min 55 s ago (heartbeats kept it): 5 s of visibility left.
    const parts = m.handle.split(':');
    const aged = [parts[0], parts[1], (Date.now() - 12 * 3_600_000 + 5_000).toString(36), ...parts.slice(3)].join(':');
    const got = await failure(a.release(q, aged, 60_000));
    expect(got, `release(handle with 5 s left before the 12 h cap, 60 000 ms): ${got.message}`).toMatchObject({
      code: 'DELAY_TOO_LONG',
      retryable: false,
    });
    await a.release(q, aged, 1_000);
  });
});

describe('@bg/sqs FIFO receive against a stand-in server (real SQS returns several messages of a group at once)', () => {
  // fauxqs returns at most one message per group per ReceiveMessage, so it cannot show this;
  // this small server answers ReceiveMessage the way SQS does.
  it('hands out only the first message of each group per receive and releases the rest at once (visibility 0)', async () => {
    const message = (n: number, group: string) => ({
      MessageId: `m${n}`,
      ReceiptHandle: `r${n}`,
      Body: `step ${n}`,
      MD5OfBody: createHash('md5').update(`step ${n}`).digest('hex'),
      Attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        MessageGroupId: group,
        SequenceNumber: String(n),
      },
    });
    const requested: unknown[] = [];
    const asked: unknown[] = [];
    let releasedHandles: (entries: { ReceiptHandle: string; VisibilityTimeout: number }[]) => void = () => {};
    const released = new Promise<{ ReceiptHandle: string; VisibilityTimeout: number }[]>((resolve) => {
      releasedHandles = resolve;
    });
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        const input = JSON.parse(body || '{}');
        res.setHeader('content-type', 'application/x-amz-json-1.0');
        const port = (server.address() as { port: number }).port;
        if (target.endsWith('GetQueueUrl')) {
          res.end(JSON.stringify({ QueueUrl: `http://127.0.0.1:${port}/000000000000/orders.fifo` }));
        } else if (target.endsWith('ReceiveMessage')) {
          requested.push(input.MessageSystemAttributeNames);
          asked.push(input.MaxNumberOfMessages);
          // The first call answers with more than it asked for (the hand-back path); later ones find nothing.
          const messages = asked.length === 1 ? [message(1, 'user-1'), message(2, 'user-1'), message(3, 'user-2')] : [];
          res.end(JSON.stringify({ Messages: messages }));
        } else if (target.endsWith('ChangeMessageVisibilityBatch')) {
          releasedHandles(input.Entries);
          res.end(JSON.stringify({ Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })), Failed: [] }));
        } else {
          res.end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const a = sqsAdapter({ fifo: true, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: CREDENTIALS });
    try {
      const got = await a.receive('orders', { max: 10, leaseMs: 30_000 });
      expect(requested[0], 'ReceiveMessage must ask for MessageGroupId').toContain('MessageGroupId');
      expect(new Set(asked), 'FIFO ReceiveMessage asks for one message (each message SQS returns counts a receive)').toEqual(
        new Set([1]),
      );
      expect(
        got.map((m) => m.body),
        'one receive answered with steps 1 and 2 of group user-1 and step 3 of user-2: hand out one per group',
      ).toEqual(['step 1', 'step 3']);
      const entries = await released;
      expect(
        entries.map((e) => [e.ReceiptHandle, e.VisibilityTimeout]),
        'the held-back step 2 is made visible again at once',
      ).toEqual([['r2', 0]]);
    } finally {
      await a.close();
      server.close();
    }
  });
});
