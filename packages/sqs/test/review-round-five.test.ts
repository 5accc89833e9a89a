// Outside review, round five: receives of more than 10 with leases already over, purges that
// stopped at one scan, redrive-moved records whose attempts grew with every listing, FIFO
// deliveries counted up before they ran. Each case failed before its fix; each block is its
// own scope.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { GetQueueUrlCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { isBgError, type ReceivedMessage } from '@bg/core';
import { type SqsAdapter, type SqsAdapterOptions, sqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS, inspector, makeAdapter, rawClient, skipReason } from './backend.js';

{
  // sqs-review finding 1: a fanned-out receive (max > 10 while a backlog waits) waits for its
  // long poll even when its short polls already brought messages, so those messages sit in
  // memory while their lease runs out; another consumer gets them meanwhile.

  const opened: SqsAdapter[] = [];
  function adapter(): SqsAdapter {
    const a = makeAdapter();
    opened.push(a);
    return a;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  /** The long poll reaches the server 300 ms after the short polls (network jitter; on SQS a short poll may simply win). */
  function lateLongPolls(a: SqsAdapter): void {
    a.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { WaitTimeSeconds?: number };
        if (context.commandName === 'ReceiveMessageCommand' && (input.WaitTimeSeconds ?? 0) > 0) {
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return next(args);
      },
      { step: 'initialize', name: 'lateLongPolls' },
    );
  }

  describe.skipIf(skipReason !== undefined)('sqs-review: fanned-out receive', () => {
    it('never returns messages whose lease ran out while it waited for its long poll (no job leased to two consumers at once)', async () => {
      const a = adapter();
      const b = adapter();
      const q = `rv-${randomBytes(5).toString('hex')}`;
      await a.ensureQueue(q);
      lateLongPolls(a);
      await a.send(
        q,
        Array.from({ length: 20 }, (_, i) => ({ id: `j-${i}`, body: `b ${i}` })),
      );
      // First receive: one call of 10, comes back full: the queue's receives now fan out.
      const first = await a.receive(q, { max: 20, leaseMs: 30_000, waitMs: 1_000 });
      expect(first.length).toBe(10);
      await Promise.all(first.map((m) => a.ack(q, m.handle)));
      // Second receive: a long poll of 10 plus a short poll of 10; the short poll takes the 10 left.
      const leaseMs = 1_000;
      const receiving = a.receive(q, { max: 20, leaseMs, waitMs: 6_000 });
      // A competing consumer polls meanwhile.
      const other: { message: ReceivedMessage; at: number }[] = [];
      let done = false;
      const competing = (async () => {
        while (!done) {
          for (const message of await b.receive(q, { max: 10, leaseMs: 30_000, waitMs: 500 })) {
            other.push({ message, at: Date.now() });
          }
        }
      })();
      const got = await receiving;
      const returnedAt = Date.now();
      done = true;
      await competing;
      expect(got.length, 'the second receive returns the 10 jobs left').toBe(10);
      expect(
        got.filter((m) => m.leaseExpiresAt <= returnedAt).map((m) => m.id),
        'jobs returned with their lease already over',
      ).toEqual([]);
      const mine = new Set(got.map((m) => m.id));
      expect(
        other.filter((o) => o.at < returnedAt && mine.has(o.message.id)).map((o) => o.message.id),
        'jobs the competing consumer received while the first receive still held them',
      ).toEqual([]);
    });
  });
}

{
  // sqs-review findings 2 and 3: dead-letter purges (and replays) that silently miss records.

  const opened: SqsAdapter[] = [];
  function adapter(options: SqsAdapterOptions = {}): SqsAdapter {
    const a = makeAdapter(options);
    opened.push(a);
    return a;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  const queueName = (): string => `rv-${randomBytes(5).toString('hex')}`;

  /** Dead-letters `n` jobs the way the worker does (deadLetter, then ack). */
  async function deadLetterJobs(a: SqsAdapter, q: string, n: number): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, i) => `d-${i}`);
    await a.send(
      q,
      ids.map((id) => ({ id, body: `body ${id}` })),
    );
    const end = Date.now() + 10_000;
    let done = 0;
    while (done < n && Date.now() < end) {
      for (const m of await a.receive(q, { max: 10, leaseMs: 30_000, waitMs: 1_000 })) {
        await a.deadLetter(q, m, { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now() });
        await a.ack(q, m.handle);
        done++;
      }
    }
    expect(done).toBe(n);
    return ids;
  }

  describe.skipIf(skipReason !== undefined)('sqs-review: dead-letter scans that stop early', () => {
    it('purgeDeadLetters() removes every dead letter, not only the first scan limit of them', async () => {
      const a = adapter({ deadLetterScanLimit: 5 });
      const q = queueName();
      await a.ensureQueue(q);
      await deadLetterJobs(a, q, 12);
      expect(await inspector(a).deadCount(q)).toBe(12);
      const purged = await a.purgeDeadLetters(q);
      expect({ purged, left: await inspector(a).deadCount(q) }, 'purge of all 12 dead letters').toEqual({ purged: 12, left: 0 });
    });

    it('FIFO: purgeDeadLetters() removes dead letters of one message group (moved there by the SQS redrive policy)', async () => {
      const a = adapter({ fifo: true, redriveMaxReceiveCount: 5 });
      const q = queueName();
      await a.ensureQueue(q);
      // What the redrive policy moves keeps its message group: write three such records directly.
      const raw = rawClient();
      const { QueueUrl } = await raw.send(new GetQueueUrlCommand({ QueueName: a.sqsDeadLetterQueueName(q) }));
      await raw.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [0, 1, 2].map((i) => ({
            Id: String(i),
            MessageBody: `step ${i}`,
            MessageGroupId: 'user-1',
            MessageDeduplicationId: `dedup-${i}`,
            MessageAttributes: { 'bg.id': { DataType: 'String', StringValue: `job-${i}` } },
          })),
        }),
      );
      raw.destroy();
      expect(await inspector(a).deadCount(q)).toBe(3);
      const purged = await a.purgeDeadLetters(q);
      expect({ purged, left: await inspector(a).deadCount(q) }, 'purge of all 3 dead letters').toEqual({ purged: 3, left: 0 });
    });
  });
}

{
  // sqs-review finding 5: on real SQS a FIFO ReceiveMessage returns several messages of one group
  // (fauxqs: one). The adapter keeps the first and hands the others back (visibility 0), but SQS
  // has counted a receive for each of them: the n-th job of a group backlog reaches its handler
  // with deliveryCount n (and the SQS redrive policy moves it to the dead-letter queue) although
  // it never ran. This stand-in answers like SQS: the group's visible messages in order, up to
  // MaxNumberOfMessages, none while one of the group is in flight; every receive counts.

  interface Stored {
    id: number;
    receives: number;
    inFlight: boolean;
    receipt: string;
  }

  function fifoStandIn(count: number) {
    const messages: Stored[] = Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      receives: 0,
      inFlight: false,
      receipt: '',
    }));
    let receiptSeq = 0;
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
          const out = [];
          if (!messages.some((m) => m.inFlight)) {
            for (const m of messages.slice(0, input.MaxNumberOfMessages ?? 1)) {
              m.receives++;
              m.inFlight = true;
              m.receipt = `r${m.id}-${++receiptSeq}`;
              const text = `step ${m.id}`;
              out.push({
                MessageId: `m${m.id}`,
                ReceiptHandle: m.receipt,
                Body: text,
                MD5OfBody: createHash('md5').update(text).digest('hex'),
                Attributes: {
                  ApproximateReceiveCount: String(m.receives),
                  SentTimestamp: String(Date.now()),
                  MessageGroupId: 'user-1',
                },
              });
            }
          }
          res.end(JSON.stringify({ Messages: out }));
        } else if (target.endsWith('ChangeMessageVisibilityBatch') || target.endsWith('DeleteMessageBatch')) {
          const entries = input.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout?: number }[];
          for (const e of entries) {
            const i = messages.findIndex((m) => m.receipt === e.ReceiptHandle);
            if (i < 0) continue;
            if (target.endsWith('DeleteMessageBatch')) messages.splice(i, 1);
            else if (e.VisibilityTimeout === 0) (messages[i] as Stored).inFlight = false;
          }
          res.end(JSON.stringify({ Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] }));
        } else {
          res.end('{}');
        }
      });
    });
    return server;
  }

  describe('sqs-review: FIFO group backlog on real SQS semantics (stand-in server)', () => {
    it('each job of a group reaches the worker with deliveryCount 1 when it never failed', async () => {
      const server = fifoStandIn(5);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const a = sqsAdapter({ fifo: true, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: CREDENTIALS });
      const counts: Record<string, number> = {};
      try {
        const end = Date.now() + 8_000;
        while (Object.keys(counts).length < 5 && Date.now() < end) {
          for (const m of await a.receive('orders', { max: 10, leaseMs: 30_000, waitMs: 0 })) {
            counts[m.body] = m.deliveryCount;
            await a.ack('orders', m.handle); // the handler succeeded at once
          }
        }
      } finally {
        await a.close();
        server.close();
      }
      expect(counts, 'deliveryCount of each job, every one run once and acked').toEqual({
        'step 1': 1,
        'step 2': 1,
        'step 3': 1,
        'step 4': 1,
        'step 5': 1,
      });
    });
  });
}

{
  const opened: SqsAdapter[] = [];
  function adapter(options: SqsAdapterOptions = {}): SqsAdapter {
    const a = makeAdapter(options);
    opened.push(a);
    return a;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });
  const queueName = (): string => `rv-${randomBytes(5).toString('hex')}`;

  async function one(a: SqsAdapter, q: string, leaseMs: number): Promise<ReceivedMessage> {
    const end = Date.now() + 8_000;
    while (Date.now() < end) {
      const [m] = await a.receive(q, { max: 1, leaseMs, waitMs: 1_000 });
      if (m) return m;
    }
    throw new Error('nothing received');
  }

  async function codeOf(p: Promise<unknown>): Promise<string> {
    try {
      await p;
      return 'resolved';
    } catch (error) {
      return isBgError(error) ? error.code : String(error);
    }
  }

  describe.skipIf(skipReason !== undefined)('sqs-review probes', () => {
    it('a dead letter moved by the redrive policy keeps its attempt count however often it is listed', async () => {
      const a = adapter();
      const q = queueName();
      await a.ensureQueue(q);
      const raw = rawClient();
      const { QueueUrl } = await raw.send(new GetQueueUrlCommand({ QueueName: a.sqsDeadLetterQueueName(q) }));
      await raw.send(new SendMessageCommand({ QueueUrl, MessageBody: 'moved' }));
      raw.destroy();
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await a.listDeadLetters(q);
        seen.push(page.items[0]?.attempts ?? -1);
      }
      expect(seen, 'attempts reported by three listings of the same dead letter').toEqual([seen[0], seen[0], seen[0]]);
    });

    it('extend and release with a stale handle (another consumer holds the job) are LEASE_LOST and leave its delivery alone', async () => {
      const a = adapter();
      const b = adapter();
      const q = queueName();
      await a.ensureQueue(q);
      await a.send(q, [{ id: 's', body: 's' }]);
      const stale = await one(a, q, 1_000);
      const fresh = await one(b, q, 30_000);
      expect(fresh.deliveryCount).toBe(2);
      expect(await codeOf(a.extend(q, stale.handle, 30_000)), 'extend with the stale handle').toBe('LEASE_LOST');
      expect(await codeOf(a.release(q, stale.handle, 0)), 'release with the stale handle').toBe('LEASE_LOST');
      // b's delivery is still hidden: nobody else gets the job.
      expect(await a.receive(q, { max: 1, leaseMs: 1_000, waitMs: 1_000 })).toEqual([]);
      await b.ack(q, fresh.handle);
    });
  });
}
