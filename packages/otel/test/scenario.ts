import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitUntil } from '@bg/backends';
import { withCapabilities } from '@bg/conformance';
import { type Adapter, createQueue, createWorker, defineJob, permanentError, type WorkerEvent } from '@bg/core';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { ATTR, EVENT, instrument } from '../src/index.js';

/** One backend's knobs for {@link traceScenario}. */
export interface ScenarioBackend {
  /** Test title prefix, e.g. `redis`. */
  readonly name: string;
  /** The expected `messaging.system`. */
  readonly system: string;
  /** A fresh adapter on the backend's private server. */
  readonly makeAdapter: () => Adapter;
  /** Worker lease: long enough that a heartbeat (every third of it) survives a loaded machine's event-loop lag. */
  readonly leaseMs: number;
  /** Worker long poll. */
  readonly pollMs: number;
}

interface LogLine {
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>> | undefined;
}

const email = defineJob({
  type: 'otel.email',
  schema: z.object({ to: z.string(), mode: z.enum(['flaky', 'poison', 'slow']) }),
  retry: { maxAttempts: 3, backoff: 'fixed', baseMs: 200, jitter: 'none' },
});

/** The delay of the first job: well past the lowered native maximum (1 s), so the core hops even on a slow machine. */
const HOP_DELAY_MS = 3_000;

const attr = (span: ReadableSpan, key: string): unknown => span.attributes[key];
const events = (span: ReadableSpan): string[] => span.events.map((e) => e.name);

function metric(exported: MetricData[], name: string): MetricData | undefined {
  return exported.find((m) => m.descriptor.name === name);
}

/** Sum of a counter's points (optionally only those whose attributes match `where`). */
function total(exported: MetricData[], name: string, where: Record<string, unknown> = {}): number {
  const points = (metric(exported, name)?.dataPoints ?? []) as DataPoint<number>[];
  return points
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + p.value, 0);
}

/** Number of values a histogram recorded. */
function histogramCount(exported: MetricData[], name: string): number {
  const points = (metric(exported, name)?.dataPoints ?? []) as DataPoint<Histogram>[];
  return points.reduce((sum, p) => sum + p.value.count, 0);
}

/**
 * The scenario every backend runs: a real `node:http` server handles a request that enqueues
 * three jobs (one delayed past the native maximum, then two in a batch). The delayed one hops,
 * fails its first attempt (retry) and succeeds on the second; one of the batch fails
 * permanently (dead letter); the last runs long enough for a lease extension. It checks the
 * one trace from the request to every handler, the span events of each settle outcome, the
 * trace ids on log lines, and the metric values of this known workload.
 */
export function traceScenario(backend: ScenarioBackend): void {
  it(`${backend.name}: one trace from an HTTP request through enqueue, a delay hop, a retry and a dead letter; metrics of the workload`, async () => {
    context.disable();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const tracer = tracerProvider.getTracer('test');
    const otel = instrument({ tracerProvider, meterProvider, backlogIntervalMs: 0 });

    const raw = backend.makeAdapter();
    const adapter = withCapabilities(raw, { maxDelayMs: Math.min(raw.capabilities.maxDelayMs, 1_000) });
    const queue = `otel-${backend.name}-${Math.random().toString(36).slice(2, 8)}`;
    const jobs = createQueue({ adapter, queue, instrumentation: otel });

    const server = createServer((req, res) => {
      const span = tracer.startSpan(`${req.method} /signup`, { kind: SpanKind.SERVER });
      void context.with(trace.setSpan(context.active(), span), async () => {
        try {
          const first = await jobs.enqueue(email, { to: 'a@example.com', mode: 'flaky' }, { delayMs: HOP_DELAY_MS });
          const batch = await jobs.enqueueMany(email, [
            { to: 'b@example.com', mode: 'poison' },
            { to: 'c@example.com', mode: 'slow' },
          ]);
          res.end(JSON.stringify({ flaky: first.id, poison: batch[0]?.id, slow: batch[1]?.id }));
        } catch (error) {
          res.statusCode = 500;
          res.end(String(error));
        } finally {
          span.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const seen: WorkerEvent[] = [];
    const workerLog: LogLine[] = [];
    const handlerLog: LogLine[] = [];
    const log = otel.logger({ info: (message, data) => handlerLog.push({ message, data }) });
    const worker = createWorker({
      adapter,
      queue,
      instrumentation: otel,
      concurrency: 4,
      leaseMs: backend.leaseMs,
      pollMs: backend.pollMs,
      onEvent: (event) => seen.push(event),
      logger: {
        info: (message, data) => workerLog.push({ message, data }),
        warn: (message, data) => workerLog.push({ message, data }),
      },
    });
    worker.handle(email, async (payload, ctx) => {
      log.info?.(`handling ${payload.mode}`, { jobId: ctx.jobId });
      if (payload.mode === 'poison') throw permanentError('mailbox does not exist');
      if (payload.mode === 'flaky') {
        if (ctx.attempt === 1) throw new Error('smtp server busy');
        tracer.startActiveSpan('smtp.send', (span) => span.end());
        return;
      }
      await waitUntil(
        'a lease extension of the slow job',
        () => seen.some((e) => e.type === 'lease-extended' && e.jobId === ctx.jobId),
        30_000,
      );
    });

    try {
      await worker.start();
      const response = await fetch(`http://127.0.0.1:${port}/signup`, { method: 'POST' });
      const body = await response.text();
      expect(response.status, `POST /signup answered ${response.status}: ${body}`).toBe(200);
      const ids = JSON.parse(body) as { flaky: string; poison: string; slow: string };
      const outcome = (type: WorkerEvent['type'], jobId: string): boolean =>
        seen.some((e) => e.type === type && 'jobId' in e && e.jobId === jobId);
      await waitUntil(
        'the flaky and slow jobs acked and the poison job dead-lettered',
        () => outcome('succeeded', ids.flaky) && outcome('succeeded', ids.slow) && outcome('dead-lettered', ids.poison),
        40_000,
      );
      await worker.stop({ graceMs: 5_000 });
      await meterProvider.forceFlush();

      // ---- traces ----
      const finished = spans.getFinishedSpans();
      const http = finished.find((s) => s.name === 'POST /signup');
      expect(http, `an HTTP server span among ${finished.map((s) => s.name).join(', ')}`).toBeDefined();
      const traceId = http?.spanContext().traceId;
      const sends = finished.filter((s) => s.kind === SpanKind.PRODUCER);
      const processes = finished.filter((s) => s.kind === SpanKind.CONSUMER);
      expect(
        sends.map((s) => s.name),
        'send spans are named "send <queue>" (one per enqueue call)',
      ).toEqual([`send ${queue}`, `send ${queue}`]);
      for (const span of [...sends, ...processes]) {
        expect(span.spanContext().traceId, `${span.name} ${String(attr(span, ATTR.messageId))} is in the request's trace`).toBe(
          traceId,
        );
        expect(attr(span, ATTR.system), `${span.name}: messaging.system of ${backend.name}`).toBe(backend.system);
        expect(attr(span, ATTR.destination), `${span.name}: messaging.destination.name`).toBe(queue);
        expect(attr(span, ATTR.jobType), `${span.name}: bg.job.type`).toBe('otel.email');
      }
      const [single, batch] = sends;
      expect(single?.parentSpanContext?.spanId, 'the send span is a child of the HTTP span').toBe(http?.spanContext().spanId);
      expect(attr(single as ReadableSpan, ATTR.messageId), 'enqueue: messaging.message.id').toBe(ids.flaky);
      expect(attr(single as ReadableSpan, ATTR.batchCount), 'enqueue: no batch count').toBeUndefined();
      expect(attr(batch as ReadableSpan, ATTR.batchCount), 'enqueueMany of 2: messaging.batch.message_count').toBe(2);
      expect(attr(single as ReadableSpan, ATTR.operationType), 'send: messaging.operation.type').toBe('send');

      const deliveriesOf = (id: string, parent: ReadableSpan | undefined): ReadableSpan[] => {
        const list = processes.filter((s) => attr(s, ATTR.messageId) === id);
        for (const span of list) {
          expect(span.name, 'process span name').toBe(`process ${queue}`);
          expect(attr(span, ATTR.operationType), 'process: messaging.operation.type').toBe('process');
          expect(span.parentSpanContext?.spanId, `process of ${id}: child of its send span`).toBe(parent?.spanContext().spanId);
          expect(span.links[0]?.context.spanId, `process of ${id}: linked to its send span`).toBe(parent?.spanContext().spanId);
        }
        return list.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
      };

      // The delayed job: hop(s), a failed attempt released for a retry, then the ack.
      const flaky = deliveriesOf(ids.flaky, single);
      const flakyEvents = flaky.map(events);
      const hops = flakyEvents.filter((names) => names.includes(EVENT.hop)).length;
      expect(hops, `flaky job: at least one delay hop (${JSON.stringify(flakyEvents)})`).toBeGreaterThanOrEqual(1);
      const attempts = flaky.filter((s) => !events(s).includes(EVENT.hop));
      expect(attempts.map(events), 'flaky job: a failed attempt (exception, retry) then an ack').toEqual([
        ['exception', EVENT.retry],
        [EVENT.ack],
      ]);
      const [failedAttempt, ackedAttempt] = attempts as [ReadableSpan, ReadableSpan];
      expect(failedAttempt.status.code, 'failed attempt: span status ERROR').toBe(SpanStatusCode.ERROR);
      expect(attr(failedAttempt, ATTR.errorType), 'failed attempt: error.type is the error class').toBe('Error');
      expect(failedAttempt.events[1]?.attributes?.[ATTR.delayMs], 'retry event: the backoff delay (fixed 200 ms)').toBe(200);
      expect(attr(ackedAttempt, ATTR.attempt), 'acked attempt: bg.job.attempt').toBe(2);
      const smtp = finished.find((s) => s.name === 'smtp.send');
      expect(smtp?.parentSpanContext?.spanId, 'a span made in the handler is a child of its process span').toBe(
        ackedAttempt.spanContext().spanId,
      );

      const [poison] = deliveriesOf(ids.poison, batch);
      expect(poison && events(poison), 'poison job: exception then dead letter').toEqual(['exception', EVENT.deadLetter]);
      expect(poison?.events[1]?.attributes?.[ATTR.deadLetterReason], 'dead-letter event: reason').toBe('permanent-error');
      expect(poison?.status.code, 'dead-lettered: status ERROR').toBe(SpanStatusCode.ERROR);
      expect(attr(poison as ReadableSpan, ATTR.errorType), 'dead-lettered: error.type is the BgError code').toBe(
        'PERMANENT_FAILURE',
      );

      const slowRuns = deliveriesOf(ids.slow, batch).map(events);
      expect(slowRuns, 'slow job: one delivery, lease extension(s) then an ack').toEqual([
        [...(slowRuns[0]?.filter((name) => name === EVENT.leaseExtended) ?? []), EVENT.ack],
      ]);
      expect(slowRuns[0], 'slow job: at least one lease-extended event').toContain(EVENT.leaseExtended);

      // ---- logs ----
      const deadLine = workerLog.find((l) => l.message.includes('dead-lettered'));
      expect(deadLine?.data?.trace_id, `worker's dead-letter log line carries the trace id: ${JSON.stringify(deadLine)}`).toBe(
        traceId,
      );
      expect(deadLine?.data?.span_id, "worker's dead-letter log line carries the poison delivery's span id").toBe(
        poison?.spanContext().spanId,
      );
      const handlerLine = handlerLog.find((l) => l.message === 'handling poison');
      expect(handlerLine?.data?.span_id, 'a handler log line carries its process span id').toBe(poison?.spanContext().spanId);

      // ---- metrics ----
      const exported =
        metricExporter
          .getMetrics()
          .at(-1)
          ?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
      const type = { [ATTR.jobType]: 'otel.email' };
      expect(total(exported, 'messaging.client.sent.messages', type), 'sent: 3 jobs').toBe(3);
      expect(total(exported, 'messaging.client.consumed.messages', type), 'consumed: one per process span').toBe(
        processes.length,
      );
      expect(histogramCount(exported, 'messaging.process.duration'), 'process duration: 4 handler runs').toBe(4);
      expect(total(exported, 'bg.job.retries', type), 'retries: 1').toBe(1);
      expect(
        total(exported, 'bg.job.dead_letters', { ...type, [ATTR.deadLetterReason]: 'permanent-error' }),
        'dead letters',
      ).toBe(1);
      const hopDeferrals =
        total(exported, 'bg.job.deferrals', { [ATTR.deferReason]: 'not-before' }) +
        total(exported, 'bg.job.deferrals', { [ATTR.deferReason]: 'fresh-count' });
      expect(hopDeferrals, 'deferrals (not-before + fresh-count): one per hop').toBe(hops);
      expect(total(exported, 'bg.lease.extensions'), 'lease extensions ≥ 1').toBeGreaterThanOrEqual(1);
      expect(total(exported, 'bg.lease.lost'), 'no lease lost').toBe(0);
      expect(histogramCount(exported, 'bg.job.queue_latency'), 'queue latency: one per job (first attempts)').toBe(3);
      const backlog = (metric(exported, 'bg.queue.backlog')?.dataPoints ?? []) as DataPoint<number>[];
      expect(backlog.length, 'backlog gauge sampled from stats()').toBeGreaterThan(0);
      const dead = backlog.find((p) => p.attributes[ATTR.queueState] === 'dead');
      if (dead) expect(dead.value, 'backlog{state=dead}: the one dead letter').toBe(1);
    } finally {
      await worker.stop({ graceMs: 0 });
      server.close();
      await adapter.close();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      context.disable();
    }
  });
}
