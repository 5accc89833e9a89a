import type { ReceivedMessage } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import {
  describeError,
  expectBgError,
  message,
  receiveCount,
  receiveOne,
  say,
  show,
  since,
  uniqueQueueName,
  watchQuiet,
} from '../helpers.js';
import { longLease, promptly } from '../timing.js';

/** Lifecycle cases: close and ensureQueue. */
export const lifecycleCases: readonly ConformanceCase[] = [
  {
    id: 'lifecycle.close-every-call',
    group: 'Limits and errors',
    title:
      'after close() every call is CLOSED (not only send, receive and stats; queueExists, listQueues and deleteQueue too), and nothing is changed',
    async run(ctx) {
      const { queue, expect, timing } = ctx;
      const adapter = await ctx.newAdapter();
      const lease = longLease(timing, adapter.capabilities);
      await adapter.send(queue, [message('held')]);
      const got = await receiveOne(ctx, { adapter, leaseMs: lease });
      await adapter.close();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['ensureQueue', () => adapter.ensureQueue(queue)],
        ['extend', () => adapter.extend(queue, got.handle, lease)],
        ['ack', () => adapter.ack(queue, got.handle)],
        ['release', () => adapter.release(queue, got.handle, 0)],
        ['deadLetter', () => adapter.deadLetter(queue, got, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() })],
        ['listDeadLetters', () => adapter.listDeadLetters(queue)],
        ['getDeadLetter', () => adapter.getDeadLetter(queue, got.id)],
        ['replayDeadLetter', () => adapter.replayDeadLetter(queue, got.id)],
        ['purgeDeadLetters', () => adapter.purgeDeadLetters(queue)],
        // The optional queue operations too, where implemented (an admin client is no exception).
        ...(adapter.queueExists ? [['queueExists', () => adapter.queueExists?.(queue)] as [string, () => Promise<unknown>]] : []),
        ...(adapter.listQueues ? [['listQueues', () => adapter.listQueues?.()] as [string, () => Promise<unknown>]] : []),
        ...(adapter.deleteQueue ? [['deleteQueue', () => adapter.deleteQueue?.(queue)] as [string, () => Promise<unknown>]] : []),
      ];
      for (const [name, call] of calls) {
        await expectBgError(
          ctx,
          `${name} after close()`,
          Promise.resolve().then(call),
          'CLOSED',
          false,
          'any call after close() is CLOSED',
        );
      }
      expect(await ctx.inspector.liveCount(queue), say('ack (and deleteQueue) after close()', 'must not remove the job')).toBe(1);
      expect(await ctx.inspector.deadCount(queue), say('deadLetter after close()', 'must write nothing')).toBe(0);
    },
  },
  {
    id: 'lifecycle.close-ends-long-poll',
    group: 'Limits and errors',
    title: 'close() ends a pending long poll at once (empty or CLOSED), and resolves promptly itself',
    async run(ctx) {
      const { queue, expect, timing } = ctx;
      const adapter = await ctx.newAdapter();
      const lease = longLease(timing, adapter.capabilities);
      // One call first, so that the adapter's connections are up: the case is about a long poll
      // that is waiting, not about connecting (a new connection can take a second on a busy box).
      await adapter.receive(queue, { max: 1, leaseMs: lease, waitMs: 0 });
      const polling = adapter
        .receive(queue, { max: 1, leaseMs: lease, waitMs: 20_000 })
        .then((got) => ({ got }))
        .catch((error: unknown) => ({ error }));
      await new Promise((r) => setTimeout(r, 300));
      const start = Date.now();
      await adapter.close();
      const result = await polling;
      const took = since(start);
      expect(
        took,
        say(
          'receive(waitMs 20000) pending during close()',
          `ends within promptMs + pollMs = ${promptly(timing)} ms`,
          `${took} ms`,
        ),
      ).toBeLessThanOrEqual(promptly(timing));
      if ('got' in result) expect(result.got, say('receive pending during close()', 'returns nothing')).toEqual([]);
      else
        expect(
          (result.error as { code?: string }).code,
          say('receive pending during close()', 'rejects only with CLOSED', show(String(result.error))),
        ).toBe('CLOSED');
    },
  },
  {
    id: 'lifecycle.close-receive-in-flight',
    group: 'Limits and errors',
    title:
      'a receive still out when close() is called resolves with nothing (or CLOSED), and the job it took is visible again at once, not leased by nobody',
    async run(ctx) {
      const { queue, expect, timing } = ctx;
      const adapter = await ctx.newAdapter();
      const lease = longLease(timing, adapter.capabilities);
      const sent = message('in flight at close');
      await ctx.adapter.send(queue, [sent]);
      let answered = false;
      const receiving = adapter
        .receive(queue, { max: 1, leaseMs: lease, waitMs: timing.pollMs })
        .then((got) => ({ got, error: undefined as unknown }))
        .catch((error: unknown) => ({ got: [] as ReceivedMessage[], error }))
        .finally(() => {
          answered = true;
        });
      // One turn of the event loop: on a backend across the network the receive is in flight.
      await new Promise((resolve) => setImmediate(resolve));
      const pendingAtClose = !answered;
      const closing = adapter.close();
      const result = await receiving;
      await closing;
      const ids = result.got.map((m) => m.id);
      if (!pendingAtClose) {
        // The backend answered within one turn of the event loop (in-process stores): the caller
        // holds what it got, and there was nothing in flight to check.
        if (ids.includes(sent.id)) return;
      } else {
        expect(
          ids,
          say(
            'receive still pending when close() was called',
            'resolves with nothing: nobody can settle a job on a closed adapter, so it must be handed back',
            show(ids),
          ),
        ).toEqual([]);
        if (result.error !== undefined)
          expect(
            (result.error as { code?: string }).code,
            say('receive still pending when close() was called', 'rejects only with CLOSED', show(String(result.error))),
          ).toBe('CLOSED');
      }
      const start = Date.now();
      const again = await receiveCount(ctx, 1, { leaseMs: lease, deadlineMs: promptly(timing) });
      expect(
        again.map((m) => m.id),
        say(
          'receive on another adapter after close() of one whose receive was in flight',
          `gets the job within promptMs + pollMs = ${promptly(timing)} ms (the lease is ${lease} ms): the receive in flight returned ${show(ids)}, so it must have handed the job back`,
          `${show(again.map((m) => m.id))} after ${since(start)} ms`,
        ),
      ).toEqual([sent.id]);
    },
  },
  {
    id: 'lifecycle.ensure-existing-queue',
    group: 'Limits and errors',
    title: 'ensureQueue on an existing queue is harmless: ready, leased and dead-lettered jobs are all kept',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const sent = [message('ready'), message('leased'), message('dead')];
      await adapter.send(queue, sent);
      const got = await receiveCount(ctx, 3, { leaseMs: lease });
      const dead = got.find((m) => m.id === sent[2]?.id);
      const leased = got.find((m) => m.id === sent[1]?.id);
      const ready = got.find((m) => m.id === sent[0]?.id);
      if (!dead || !leased || !ready)
        throw new Error(say(`receive on queue ${queue}`, 'delivers the 3 jobs sent', show(got.map((m) => m.body))));
      await adapter.deadLetter(queue, dead, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
      await adapter.ack(queue, dead.handle);
      await adapter.release(queue, ready.handle, 0);
      await adapter.ensureQueue(queue);
      const other = await ctx.newAdapter();
      await other.ensureQueue(queue);
      const call = `ensureQueue(${queue}) twice on an existing queue`;
      // Two callers (a producer and a worker starting together) creating one new queue at once
      // both succeed: "already exists" from the loser of the race is success.
      const racing = uniqueQueueName(ctx.options.queuePrefix ?? 'conf', 'ensure-race');
      const raced = await Promise.allSettled([adapter.ensureQueue(racing), other.ensureQueue(racing)]);
      expect(
        raced.map((r) => (r.status === 'fulfilled' ? 'resolved' : describeError(r.reason))),
        say(`ensureQueue(${racing}) by two adapters at once on a queue that did not exist`, 'both resolve'),
      ).toEqual(['resolved', 'resolved']);
      ctx.defer(async () => {
        await adapter.deleteQueue?.(racing);
      });
      expect(await ctx.inspector.liveCount(queue), say(call, 'keeps both live jobs')).toBe(2);
      expect(await ctx.inspector.deadCount(queue), say(call, 'keeps the dead letter')).toBe(1);
      expect((await adapter.getDeadLetter(queue, dead.id))?.id, say(call, 'keeps the dead letter readable')).toBe(dead.id);
      const back = await receiveOne(ctx, { leaseMs: lease });
      expect(back.id, say(call, 'keeps the ready job deliverable; the leased one stays leased')).toBe(ready.id);
      expect(
        await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }),
        say(call, 'does not end the lease of the leased job'),
      ).toEqual([]);
      await adapter.ack(queue, leased.handle);
    },
  },
];
