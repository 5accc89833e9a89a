import { context } from '@opentelemetry/api';
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
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll } from 'vitest';
import { type BgOtel, instrument } from '../src/index.js';

/** Registers an async-hooks context manager for the file's tests (a handler's active span needs one). */
export function useContextManager(): void {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    manager.disable();
    context.disable();
  });
}

/** A tracer and a meter provider with in-memory exporters, and `instrument()` on them (no backlog gauges). */
export interface InMemorySdk {
  readonly otel: BgOtel;
  /** The span exporter (every ended span). */
  readonly spans: InMemorySpanExporter;
  /** Ended spans called `name`. */
  named(name: string): ReadableSpan[];
  /** Spans started and not ended (leaks). */
  open(): ReadableSpan[];
  /** The metrics as the SDK collects them now. */
  metrics(): Promise<MetricData[]>;
}

/** Makes an {@link InMemorySdk}; `extra` span processors run after the exporter's. */
export function inMemorySdk(extra: SpanProcessor[] = []): InMemorySdk {
  const spans = new InMemorySpanExporter();
  const started: Span[] = [];
  const tracerProvider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [
      new SimpleSpanProcessor(spans),
      {
        onStart: (span) => started.push(span),
        onEnd: () => {},
        forceFlush: async () => {},
        shutdown: async () => {},
      },
      ...extra,
    ],
  });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    otel: instrument({ tracerProvider, meterProvider, backlogIntervalMs: false }),
    spans,
    named: (name) => spans.getFinishedSpans().filter((s) => s.name === name),
    open: () => started.filter((s) => !s.ended),
    metrics: async () => {
      await meterProvider.forceFlush();
      return (
        exporter
          .getMetrics()
          .at(-1)
          ?.scopeMetrics.flatMap((s) => s.metrics) ?? []
      );
    },
  };
}

/** The points of metric `name`, as `[attribute value of key, value]` (a histogram's value is its count). */
export function points(all: MetricData[], name: string, key: string): [unknown, number][] {
  const metric = all.find((m) => m.descriptor.name === name);
  return ((metric?.dataPoints ?? []) as DataPoint<number | Histogram>[]).map((p) => [
    p.attributes[key],
    typeof p.value === 'number' ? p.value : p.value.count,
  ]);
}

/** Resolves once `check()` holds (polled every 5 ms), else rejects naming `what` after `ms`. */
export async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
