import { isBgError } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { describeError, message, receiveCount, say, show, watchQuiet } from '../helpers.js';
import { longLease } from '../timing.js';

/** The id suffix the `errors.refusedEntry` scenario's backend refuses. */
export const REFUSED_SUFFIX = '-refused';

/** What `send` answers for each entry of a batch: failures surfaced, duplicates reported. */
export const batchResultCases: readonly ConformanceCase[] = [
  {
    id: 'delivery.batch-partial-failure',
    group: 'Delivery',
    title:
      'batch entries the backend refuses (two of four) make send reject with every failed id in details.failedIds; every other id is stored or listed as failed',
    skip: (o) =>
      o.errors?.refusedEntry
        ? undefined
        : 'no errors.refusedEntry scenario given (the backend cannot be made to refuse one entry)',
    async run(ctx) {
      const { queue, timing } = ctx;
      const make = ctx.options.errors?.refusedEntry;
      if (!make) return;
      const partial = await make();
      ctx.defer(() => partial.close());
      const refusal = (body: string) => {
        const m = message(body);
        return { ...m, id: `${m.id}${REFUSED_SUFFIX}` };
      };
      // Two refused entries where the batch has room: an adapter that names only the first failure is caught.
      const sent = [
        message('kept before'),
        refusal('refused entry'),
        message('kept after'),
        refusal('second refused entry'),
      ].slice(0, Math.max(3, Math.min(4, ctx.adapter.capabilities.maxBatchSize)));
      const refusedIds = sent.filter((m) => m.id.endsWith(REFUSED_SUFFIX)).map((m) => m.id);
      const call = `send([${sent.map((m) => m.id).join(', ')}]) on queue ${queue} (the backend refuses ${refusedIds.join(' and ')})`;
      let error: unknown;
      let results: unknown;
      try {
        results = await partial.send(queue, sent);
      } catch (caught) {
        error = caught;
      }
      ctx
        .expect(
          error,
          say(call, 'rejects when an entry was not stored (a partial failure is never a success)', `resolved ${show(results)}`),
        )
        .toBeDefined();
      ctx.expect(isBgError(error), say(call, 'rejects with a BgError', describeError(error))).toBe(true);
      const failedIds = (error as { details?: { failedIds?: unknown } }).details?.failedIds;
      ctx
        .expect(
          Array.isArray(failedIds),
          say(call, 'names the failed ids in details.failedIds', show((error as { details?: unknown }).details)),
        )
        .toBe(true);
      const failed = new Set(failedIds as string[]);
      for (const refusedId of refusedIds) {
        ctx
          .expect(failed.has(refusedId), say(call, `lists the refused ${refusedId} in details.failedIds`, show(failedIds)))
          .toBe(true);
      }
      const strangers = [...failed].filter((id) => !sent.some((m) => m.id === id));
      ctx.expect(strangers, say(call, 'lists only ids of the batch in details.failedIds', show(strangers))).toEqual([]);
      const stored = sent.filter((m) => !failed.has(m.id));
      const lease = longLease(timing, ctx.adapter.capabilities);
      const got = await receiveCount(ctx, stored.length, { leaseMs: lease });
      ctx
        .expect(
          got.map((m) => m.id).sort(),
          say(call, 'stores every entry not listed as failed (and nothing else)', show(got.map((m) => m.id))),
        )
        .toEqual(stored.map((m) => m.id).sort());
      ctx.expect(await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }), say(call, 'stores no failed entry')).toEqual([]);
    },
  },
  {
    id: 'optional.deduplication-batch-result',
    group: 'Optional',
    title:
      'in a batch, an entry whose deduplication key was seen (before, or earlier in the same batch) is answered duplicate with the stored id; the others are not',
    skip: (o) => (o.capabilities.deduplication ? undefined : 'the manifest does not declare deduplication'),
    async run(ctx) {
      const { adapter, queue, timing } = ctx;
      const key = `batch-key-${Math.random().toString(36).slice(2, 8)}`;
      const first = message('stored once', { deduplicationKey: key });
      await adapter.send(queue, [first]);
      const again = message('same key in a batch', { deduplicationKey: key });
      const fresh = message('fresh in the batch');
      const call = `send([${again.id} with key ${key}, ${fresh.id}]) on queue ${queue} after ${first.id} was sent with that key`;
      let results: unknown;
      try {
        results = await adapter.send(queue, [again, fresh]);
      } catch (error) {
        throw new Error(say(call, 'resolves', describeError(error)));
      }
      ctx
        .expect(
          results,
          say(
            call,
            `answers [{ id: ${first.id} (the stored one), duplicate: true }, { id: ${fresh.id}, duplicate: false }]`,
            show(results),
          ),
        )
        .toEqual([
          { id: first.id, duplicate: true },
          { id: fresh.id, duplicate: false },
        ]);
      // Two entries with one key in the same batch: the second is a duplicate of the first.
      const twice = `batch-twice-${Math.random().toString(36).slice(2, 8)}`;
      const x = message('first of two in one batch', { deduplicationKey: twice });
      const y = message('second of two in one batch', { deduplicationKey: twice });
      const callTwice = `send([${x.id}, ${y.id}], both with key ${twice}) on queue ${queue}`;
      let twiceResults: unknown;
      try {
        twiceResults = await adapter.send(queue, [x, y]);
      } catch (error) {
        throw new Error(say(callTwice, 'resolves', describeError(error)));
      }
      ctx
        .expect(
          twiceResults,
          say(
            callTwice,
            `answers [{ id: ${x.id}, duplicate: false }, { id: ${x.id} (the first entry), duplicate: true }]`,
            show(twiceResults),
          ),
        )
        .toEqual([
          { id: x.id, duplicate: false },
          { id: x.id, duplicate: true },
        ]);
      const lease = longLease(timing, adapter.capabilities);
      const got = await receiveCount(ctx, 3, { leaseMs: lease });
      ctx
        .expect(
          got.map((m) => m.id).sort(),
          say(`${call}, then ${callTwice}`, `stores ${first.id}, ${fresh.id} and ${x.id}`, show(got.map((m) => m.id))),
        )
        .toEqual([first.id, fresh.id, x.id].sort());
      ctx
        .expect(await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }), say(call, 'never delivers the duplicate'))
        .toEqual([]);
    },
  },
];
