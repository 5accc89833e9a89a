import { BgError, createQueue, createWorker, defineJob, encodeEnvelope, isBgError, uuidv7, type WorkerEvent } from '@bg/core';
import { memoryAdapter } from '@bg/memory';
import { type Span as ApiSpan, context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { instrument, OTHER_JOB_TYPE } from '../src/index.js';
import { inMemorySdk, until, useContextManager } from './in-memory-sdk.js';

/**
 * Defects an outside audit of `@bg/otel` reproduced; each test failed on the code before its fix.
 */

const welcome = defineJob({ type: 'email.welcome', schema: z.object({ userId: z.string() }) });
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

useContextManager();

/** A tracer and a meter provider with in-memory exporters; `extra` span processors after the exporter's. */
const sdk = inMemorySdk;

const named = (spans: InMemorySpanExporter, name: string): ReadableSpan[] =>
  spans.getFinishedSpans().filter((s) => s.name === name);

describe('@bg/otel audit fixes', () => {
  it('an unsampled request still gives its trace to the job: the worker follows its decision', async () => {
    const { spans, otel } = sdk();
    const adapter = memoryAdapter();
    const traceIds: string[] = [];
    const worker = createWorker({ adapter, queue: 'emails', pollMs: 20, instrumentation: otel });
    worker.handle(welcome, () => {
      traceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
    });
    await worker.start();
    const jobs = createQueue({ adapter, queue: 'emails', instrumentation: otel });
    // An incoming request that upstream decided not to sample (flags 00).
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    await context.with(unsampled, () => jobs.enqueue(welcome, { userId: 'u1' }));
    await until('the handler', () => traceIds.length === 1);
    await worker.stop();
    await adapter.close();
    expect(traceIds, "the handler's trace id: the unsampled request's").toEqual([TRACE]);
    expect(named(spans, 'process emails'), 'process spans recorded against the upstream decision').toEqual([]);
  });

  it('a span processor that throws neither fails an enqueue nor makes a retry send the job twice', async () => {
    for (const where of ['onStart', 'onEnd'] as const) {
      const broken: SpanProcessor = {
        onStart: () => {
          if (where === 'onStart') throw new Error('processor onStart bug');
        },
        onEnd: () => {
          if (where === 'onEnd') throw new Error('processor onEnd bug');
        },
        forceFlush: async () => {},
        shutdown: async () => {},
      };
      const { otel } = sdk([broken]);
      const adapter = memoryAdapter();
      const jobs = createQueue({ adapter, queue: 'emails', instrumentation: otel });
      const result = await jobs.enqueue(welcome, { userId: 'u1' }).catch((error: unknown) => error);
      expect(isBgError(result), `enqueue with a processor whose ${where} throws: ${String(result)}`).toBe(false);
      expect((await adapter.stats('emails')).ready, `jobs stored by one enqueue (${where} throws)`).toBe(1);
      await adapter.close();
    }
  });

  it('a meter that throws loses its metrics only: the enqueue, the send span and the process span stay', async () => {
    const spans = new InMemorySpanExporter();
    const fail = (): never => {
      throw new Error('metrics backend bug');
    };
    const meterProvider = {
      getMeter: () => ({
        createCounter: () => ({ add: fail }),
        createHistogram: () => ({ record: fail }),
        createObservableGauge: () => ({ addCallback: () => {}, removeCallback: () => {} }),
        addBatchObservableCallback: () => {},
        removeBatchObservableCallback: () => {},
      }),
    };
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const broken = instrument({ tracerProvider, meterProvider: meterProvider as never, backlogIntervalMs: false });
    const adapter = memoryAdapter();
    const jobs = createQueue({ adapter, queue: 'emails', instrumentation: broken });
    let active: ApiSpan | undefined;
    const worker = createWorker({ adapter, queue: 'emails', pollMs: 20, instrumentation: broken });
    worker.handle(welcome, () => {
      active = trace.getActiveSpan();
    });
    await worker.start();
    const sent = await jobs.enqueue(welcome, { userId: 'u1' }).catch((error: unknown) => error);
    expect(isBgError(sent), `enqueue with a throwing meter: ${String(sent)}`).toBe(false);
    await until('the process span', () => named(spans, 'process emails').length === 1);
    await worker.stop();
    await adapter.close();
    expect(named(spans, 'send emails').length, 'send spans ended despite the meter').toBe(1);
    expect(active, 'the handler ran inside its process span').toBeDefined();
  });

  it('a hand-back that fails at stop ends its process span (the job stays in storage)', async () => {
    const { spans, otel } = sdk();
    const inner = memoryAdapter();
    const adapter = Object.assign(Object.create(inner), inner, {
      release: () => Promise.reject(new BgError('UNREACHABLE', 'release failed')),
    });
    let started = false;
    const worker = createWorker({ adapter, queue: 'reports', pollMs: 20, instrumentation: otel });
    worker.handle(welcome, async () => {
      started = true;
      await new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
    });
    await worker.start();
    await createQueue({ adapter: inner, queue: 'reports' }).enqueue(welcome, { userId: 'u1' });
    await until('the handler to start', () => started);
    await worker.stop({ graceMs: 0 });
    const process = named(spans, 'process reports');
    expect(process.length, 'process spans ended after the failed hand-back').toBe(1);
    expect(process[0]?.status.code, 'its status').toBe(2);
    await inner.close();
  });

  it('job types no worker here handles share one metric series (_OTHER)', async () => {
    const { otel, metrics } = sdk();
    const adapter = memoryAdapter();
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue: 'shared', pollMs: 20, instrumentation: otel, onEvent: (e) => events.push(e) });
    worker.handle(welcome, () => {});
    const jobs = createQueue({ adapter, queue: 'shared' });
    for (let i = 0; i < 20; i++) await jobs.enqueue(defineJob({ type: `foreign.type.${i}`, schema: z.object({}) }), {});
    await jobs.enqueue(welcome, { userId: 'u1' });
    await worker.start();
    const settled = (type: WorkerEvent['type']): number => events.filter((e) => e.type === type).length;
    await until('20 dead letters and one ack', () => settled('dead-lettered') === 20 && settled('succeeded') === 1);
    await worker.stop();
    await adapter.close();
    const all = await metrics();
    for (const name of ['messaging.client.consumed.messages', 'bg.job.dead_letters']) {
      const metric = all.find((m) => m.descriptor.name === name);
      const types = new Set(metric?.dataPoints.map((p) => p.attributes['bg.job.type']));
      const expected = name === 'bg.job.dead_letters' ? [OTHER_JOB_TYPE] : ['email.welcome', OTHER_JOB_TYPE];
      expect(types, `bg.job.type values of ${name}`).toEqual(new Set(expected));
    }
  });

  it('queue latency is recorded for every first attempt, even from a producer whose clock runs ahead (as no wait)', async () => {
    const { otel, metrics } = sdk();
    const adapter = memoryAdapter();
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue: 'skewed', pollMs: 20, instrumentation: otel, onEvent: (e) => events.push(e) });
    worker.handle(welcome, () => {});
    await adapter.ensureQueue('skewed');
    // A producer on another host whose clock is a minute ahead of this one.
    const id = uuidv7();
    const body = encodeEnvelope({
      bg: 1,
      id,
      type: welcome.type,
      v: 1,
      payload: { userId: 'u1' },
      createdAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await adapter.send('skewed', [{ id, body, attributes: { 'bg-type': welcome.type } }]);
    await createQueue({ adapter, queue: 'skewed' }).enqueue(welcome, { userId: 'u2' });
    await worker.start();
    await until('both jobs acked', () => events.filter((e) => e.type === 'succeeded').length === 2);
    await worker.stop();
    await adapter.close();
    const latency = (await metrics()).find((m) => m.descriptor.name === 'bg.job.queue_latency');
    const count = latency?.dataPoints.reduce((n, p) => n + ((p.value as { count?: number }).count ?? 0), 0);
    expect(count, 'bg.job.queue_latency samples for two first attempts (one from a clock a minute ahead)').toBe(2);
  });

  it('jobs refused before sending are not counted as sent; the send duration is recorded', async () => {
    const { otel, metrics } = sdk();
    const adapter = memoryAdapter();
    const jobs = createQueue({ adapter, queue: 'emails', instrumentation: otel });
    await jobs.enqueue(welcome, { userId: 'u1' });
    for (let i = 0; i < 3; i++) {
      const refused = await jobs.enqueue(welcome, { userId: 7 } as never).catch((error: unknown) => error);
      expect(isBgError(refused, 'INVALID_PAYLOAD'), `a bad payload: ${String(refused)}`).toBe(true);
    }
    await adapter.close();
    const all = await metrics();
    const sent = all.find((m) => m.descriptor.name === 'messaging.client.sent.messages');
    const total = sent?.dataPoints.reduce((n, p) => n + (p.value as number), 0);
    expect(total, 'messaging.client.sent.messages after 1 stored and 3 refused jobs').toBe(1);
    const duration = all.find((m) => m.descriptor.name === 'messaging.client.operation.duration');
    expect(duration?.descriptor.unit, 'messaging.client.operation.duration (required by the conventions)').toBe('s');
  });

  it("the worker's failure log lines carry the trace ids of the job's span", async () => {
    const { otel } = sdk();
    const inner = memoryAdapter();
    const adapter = Object.assign(Object.create(inner), inner, {
      ack: () => Promise.reject(new BgError('UNREACHABLE', 'connection reset')),
    });
    const lines: Record<string, unknown>[] = [];
    const worker = createWorker({
      adapter,
      queue: 'reports',
      pollMs: 20,
      instrumentation: otel,
      logger: { warn: (_message, data) => lines.push({ ...data }) },
    });
    worker.handle(welcome, () => {});
    await worker.start();
    await createQueue({ adapter: inner, queue: 'reports' }).enqueue(welcome, { userId: 'u1' });
    await until('the failure line', () => lines.some((l) => typeof l.jobId === 'string'));
    await worker.stop({ graceMs: 0 });
    await inner.close();
    const line = lines.find((l) => typeof l.jobId === 'string');
    expect(line, 'the failed ack line').toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('a malformed trace option is INVALID_ARGUMENT with the instrumentation too (it was a TypeError)', async () => {
    const { otel } = sdk();
    const adapter = memoryAdapter();
    const jobs = createQueue({ adapter, queue: 'emails', instrumentation: otel });
    for (const bad of [{ traceparent: 42 }, { tracestate: 'a=b' }, { traceparent: '00-x', tracestate: 7 }]) {
      const error = await jobs.enqueue(welcome, { userId: 'u1' }, { trace: bad as never }).catch((e: unknown) => e);
      expect(isBgError(error, 'INVALID_ARGUMENT'), `trace ${JSON.stringify(bad)}: ${String(error)}`).toBe(true);
    }
    expect((await adapter.stats('emails')).ready, 'nothing stored').toBe(0);
    await adapter.close();
  });
});
