import { type Adapter, connect, isBgError } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { errorTexts } from '../error-texts.js';
import { describeError, message, receiveOne, say, show, uniqueQueueName } from '../helpers.js';
import { longLease } from '../timing.js';

/** Connecting by URL: `connect(url)` (and so `bgctl`) reaches the adapter's `fromUrl`. */
export const fromUrlCases: readonly ConformanceCase[] = [
  {
    id: 'connect.from-url',
    group: 'Connect by URL',
    title:
      'connect(url) gives a working adapter of the same name; a malformed URL is INVALID_ARGUMENT, not retryable, and its secret is not in the error',
    skip: (o) => (o.url ? undefined : 'no url hook given (connect() by URL is not checked)'),
    async run(ctx) {
      const hook = ctx.options.url;
      if (!hook) return;
      const redacted = (u: string): string => (hook.secret ? u.split(hook.secret).join('***') : u);
      const call = `connect(${show(redacted(hook.url))})`;
      let adapter: Adapter;
      try {
        adapter = await connect(hook.url);
      } catch (error) {
        throw new Error(say(call, 'gives an adapter', describeError(error)));
      }
      ctx.defer(() => adapter.close());
      ctx.expect(adapter.name, say(call, `gives a ${ctx.adapter.name} adapter`, adapter.name)).toBe(ctx.adapter.name);
      const queue = uniqueQueueName(ctx.options.queuePrefix ?? 'conf', 'from-url');
      await adapter.ensureQueue(queue);
      const sent = message('sent through connect()', { attributes: { 'bg-type': 'conformance.url' } });
      await adapter.send(queue, [sent]);
      const got = await receiveOne(ctx, { adapter, queue, leaseMs: longLease(ctx.timing, adapter.capabilities) });
      ctx
        .expect([got.id, got.body], say(`receive on queue ${queue} through ${call}`, 'delivers the job sent'))
        .toEqual([sent.id, sent.body]);
      await adapter.ack(queue, got.handle);
      for (const bad of hook.malformed ?? []) {
        const badCall = `connect(${show(redacted(bad))})`;
        let error: unknown;
        let opened: Adapter | undefined;
        try {
          opened = await connect(bad);
        } catch (caught) {
          error = caught;
        }
        await opened?.close().catch(() => {});
        ctx.expect(error, say(badCall, 'rejects a malformed URL', 'an adapter')).toBeDefined();
        ctx
          .expect(isBgError(error, 'INVALID_ARGUMENT'), say(badCall, 'is BgError INVALID_ARGUMENT', describeError(error)))
          .toBe(true);
        ctx
          .expect(
            (error as { retryable?: boolean }).retryable,
            say(badCall, 'a configuration error is never retryable', describeError(error)),
          )
          .toBe(false);
        if (hook.secret) {
          const leaks = errorTexts(error).filter((t) => t.includes(hook.secret as string));
          ctx.expect(leaks.length, say(badCall, 'never shows the secret in the error (message, stack, JSON, causes)')).toBe(0);
        }
      }
    },
  },
];
