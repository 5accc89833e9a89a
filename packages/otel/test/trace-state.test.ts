import { createQueue, defineJob } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { context, ROOT_CONTEXT, TraceFlags, type TraceState, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toTraceCarrier } from '../src/index.js';
import { inMemorySdk, useContextManager } from './in-memory-sdk.js';

useContextManager();
const job = defineJob({ type: 'email.welcome', schema: z.object({}) });
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** A propagator's own trace state (the API's TraceState is an interface) of 32 members, 3 349 characters. */
const members = Array.from({ length: 32 }, (_, i) => `v${i}=${'x'.repeat(100)}`);
const longState: TraceState = {
  set: () => longState,
  unset: () => longState,
  get: () => undefined,
  serialize: () => members.join(','),
};

describe('a trace state longer than the envelope takes', () => {
  it('loses its last members in the carrier (the envelope holds at most 2048 characters)', () => {
    const carrier = toTraceCarrier({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, traceState: longState });
    const kept = carrier.tracestate ?? '';
    expect(kept.length, 'length of the carried tracestate (of 3349)').toBeLessThanOrEqual(2048);
    expect(members.join(',').startsWith(kept), 'the carried tracestate is the first members, whole').toBe(true);
    expect(kept.split(',').length, 'members kept (19 of 32 fit in 2048 characters)').toBe(19);
  });

  it('never fails the enqueue', async () => {
    const { otel } = inMemorySdk();
    const adapter = memoryAdapter();
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: longState,
    });
    const jobs = createQueue({ adapter, queue: 'emails', instrumentation: otel });
    const result = await context.with(parent, () => jobs.enqueue(job, {})).catch((error: unknown) => error);
    const stored = (await adapter.stats('emails')).ready;
    await adapter.close();
    expect(stored, `jobs stored by an enqueue under a span with a 3349-character tracestate (${String(result)})`).toBe(1);
  });
});
