// Outside review, round five: dead letters beside a queue made elsewhere, purge beyond one scan,
// error mapping (TLS is configuration; 409 QueueBeingDeleted is transient). Each case failed
// before its fix; each block is its own scope.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AzureQueueAdapter, azureQueueAdapter, deadLetterQueueName } from '@bg/azure-queue';
import { receiveUntil } from '@bg/backends';
import { type DeadLetterInfo, isBgError } from '@bg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionString, queueEndpoint, rawService, skipReason } from './backend.js';

{
  // Review finding: the poison queue is created lazily (writeDeadLetter creates it on first use), so a
  // live queue made outside ensureQueue (portal, Terraform, az CLI, another SDK) has none. Every
  // dead-letter management call on it then failed with QUEUE_NOT_FOUND "the queue does not exist",
  // while stats() said dead: 0 — `bgctl dead-letter list` broke on a healthy queue.

  const opened: AzureQueueAdapter[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  function adapter(): AzureQueueAdapter {
    const a = azureQueueAdapter({ connectionString: connectionString(), pollIntervalMs: { min: 25, max: 200 } });
    opened.push(a);
    return a;
  }

  const queueName = (): string => `nopoison-${randomBytes(5).toString('hex')}`;

  describe.skipIf(skipReason !== undefined)('@bg/azure-queue review: a live queue without its poison queue', () => {
    it('has no dead letters (it was QUEUE_NOT_FOUND on list, get, replay and purge)', async () => {
      const a = adapter();
      const queue = queueName();
      await rawService().getQueueClient(queue).create(); // made outside the adapter: no <queue>-poison
      expect(await a.queueExists?.(queue)).toBe(true);
      expect((await a.stats(queue)).dead).toBe(0);
      const outcome = async (what: string, fn: () => Promise<unknown>): Promise<unknown> => {
        try {
          return await fn();
        } catch (error) {
          return `${what} threw ${isBgError(error) ? error.code : String(error)}`;
        }
      };
      expect(await outcome('listDeadLetters', () => a.listDeadLetters(queue))).toEqual({ items: [] });
      expect(await outcome('getDeadLetter', () => a.getDeadLetter(queue, 'job-1'))).toBeUndefined();
      expect(await outcome('replayDeadLetter', () => a.replayDeadLetter(queue, 'job-1'))).toBe(false);
      expect(await outcome('purgeDeadLetters', () => a.purgeDeadLetters(queue))).toBe(0);
      expect(await outcome('purgeDeadLetters(ids)', () => a.purgeDeadLetters(queue, ['job-1']))).toBe(0);
    });

    it('still reports QUEUE_NOT_FOUND when the live queue itself is missing', async () => {
      const a = adapter();
      const queue = queueName();
      let error: unknown;
      try {
        await a.listDeadLetters(queue);
      } catch (caught) {
        error = caught;
      }
      expect(isBgError(error, 'QUEUE_NOT_FOUND'), `listDeadLetters on a missing queue: ${String(error)}`).toBe(true);
    });
  });
}

{
  // Review finding: a poison-queue scan stops at scanLimit records (default 10 000) or 3/4 of
  // scanVisibilitySeconds, and purgeDeadLetters(queue) — "all of them" — removed only what one scan
  // read: after an incident with more dead letters than that, a purge left the rest and reported a
  // count that looked complete. Shown here with scanLimit 5.

  const opened: AzureQueueAdapter[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
  });

  const deadInfo = (): DeadLetterInfo => ({ reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });

  describe.skipIf(skipReason !== undefined)('@bg/azure-queue review: purgeDeadLetters(queue) beyond one scan', () => {
    it('removes every dead letter, not only the scanLimit first', async () => {
      const a = azureQueueAdapter({ connectionString: connectionString(), pollIntervalMs: { min: 25, max: 200 }, scanLimit: 5 });
      opened.push(a);
      const queue = `purge-${randomBytes(5).toString('hex')}`;
      await a.ensureQueue(queue);
      const n = 12;
      await a.send(
        queue,
        Array.from({ length: n }, (_, i) => ({ id: `job-${i}`, body: `b${i}` })),
      );
      for (const m of await receiveUntil(a, queue, n)) {
        await a.deadLetter(queue, m, deadInfo());
        await a.ack(queue, m.handle);
      }
      const poison = rawService().getQueueClient(deadLetterQueueName(queue));
      expect((await poison.getProperties()).approximateMessagesCount, 'dead letters stored').toBe(n);
      const removed = await a.purgeDeadLetters(queue);
      const left = (await poison.getProperties()).approximateMessagesCount;
      expect({ removed, left }, 'purgeDeadLetters(queue) with 12 dead letters and scanLimit 5').toEqual({ removed: n, left: 0 });
    });
  });
}

{
  // Review findings on error mapping:
  // - a TLS failure (https:// to a plain-http endpoint: "wrong version number"; a bad or self-signed
  //   certificate) is configuration, but came back UNREACHABLE retryable: a misconfigured worker
  //   retried for ever instead of failing at start;
  // - 409 QueueBeingDeleted (Azure refuses a queue name for ~30-40 s after Delete Queue: the
  //   ensureQueue of a worker restarted after `bgctl queues delete`) is transient, but came back
  //   BACKEND_ERROR not retryable. Azurite does not emulate it: a loopback server answers as Azure does.

  const opened: AzureQueueAdapter[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise((r) => {
            s.close(r);
            s.closeAllConnections();
          }),
      ),
    );
  });

  async function failureOf(fn: () => Promise<unknown>): Promise<unknown> {
    try {
      await fn();
    } catch (error) {
      return error;
    }
    return undefined;
  }

  describe('@bg/azure-queue review: error mapping', () => {
    it.skipIf(skipReason !== undefined)('https:// to a plain-http endpoint (TLS failure) is not retryable', async () => {
      const key = /AccountKey=([^;]+)/.exec(connectionString())?.[1] as string;
      const a = azureQueueAdapter({
        url: queueEndpoint().replace(/^http:/, 'https:'),
        accountName: 'devstoreaccount1',
        accountKey: key,
      });
      opened.push(a);
      const error = await failureOf(() => a.ensureQueue('tls-check'));
      expect(isBgError(error), String(error)).toBe(true);
      expect(
        { retryable: (error as { retryable: boolean }).retryable },
        `ensureQueue over TLS to a plain-http port: ${String(error)}`,
      ).toEqual({ retryable: false });
    });

    it('409 QueueBeingDeleted is retryable', async () => {
      const server = createServer((req, res) => {
        req.resume();
        res.writeHead(409, {
          'content-type': 'application/xml',
          'x-ms-error-code': 'QueueBeingDeleted',
          'x-ms-request-id': '00000000-0000-0000-0000-000000000000',
          'x-ms-version': '2026-02-06',
        });
        res.end(
          '<?xml version="1.0" encoding="utf-8"?><Error><Code>QueueBeingDeleted</Code><Message>The specified queue is being deleted.</Message></Error>',
        );
      });
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const a = azureQueueAdapter({ url: `http://127.0.0.1:${port}/devstoreaccount1` });
      opened.push(a);
      const error = await failureOf(() => a.ensureQueue('being-deleted'));
      expect(isBgError(error), String(error)).toBe(true);
      expect(
        { retryable: (error as { retryable: boolean }).retryable },
        `ensureQueue answered 409 QueueBeingDeleted: ${String(error)}`,
      ).toEqual({ retryable: true });
    });
  });
}
