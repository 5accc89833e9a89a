/**
 * OpenTelemetry for the example's processes, off unless asked for:
 * - `BG_OTEL=console`: every span as one JSON line on stderr (`{"otel":"span",…}`), metrics
 *   every 10 s the same way;
 * - `OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318`: spans and metrics to an OTLP/HTTP
 *   collector (the exporters read the standard `OTEL_EXPORTER_OTLP_*` variables).
 * With neither, no SDK is registered and `@bg/otel` adds nothing.
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { type BgOtel, instrument } from '@bg/otel';
import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** The telemetry of one process. */
export interface Telemetry {
  /** Pass as `instrumentation` to `createQueue` / `createWorker`. */
  readonly otel: BgOtel;
  /** Wraps a request listener in a SERVER span, so the jobs a request enqueues join its trace. */
  traced(listener: RequestListener): RequestListener;
  /** Flushes and stops the exporters. */
  shutdown(): Promise<void>;
}

const hrMs = (t: readonly [number, number]): number => t[0] * 1_000 + t[1] / 1e6;

/** One compact JSON line per span (ids, parent, kind, times, attributes, events). */
function consoleSpans(service: string): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      for (const s of spans) {
        const start = hrMs(s.startTime);
        process.stderr.write(
          `${JSON.stringify({
            otel: 'span',
            service,
            name: s.name,
            kind: SpanKind[s.kind],
            trace: s.spanContext().traceId,
            span: s.spanContext().spanId,
            parent: s.parentSpanContext?.spanId,
            links: s.links.map((l) => l.context.spanId),
            start: new Date(start).toISOString(),
            ms: Math.round((hrMs(s.endTime) - start) * 10) / 10,
            status: SpanStatusCode[s.status.code],
            attributes: s.attributes,
            events: s.events.map((e) => ({ name: e.name, ...(e.attributes ?? {}) })),
          })}\n`,
        );
      }
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
}

/** Metric points as JSON lines. */
function consoleMetrics(service: string): PushMetricExporter {
  return {
    export(batch: ResourceMetrics, done) {
      for (const scope of batch.scopeMetrics) {
        for (const m of scope.metrics) {
          for (const p of m.dataPoints) {
            process.stderr.write(
              `${JSON.stringify({ otel: 'metric', service, name: m.descriptor.name, attributes: p.attributes, value: p.value })}\n`,
            );
          }
        }
      }
      done({ code: 0 });
    },
    forceFlush: async () => {},
    shutdown: async () => {},
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
}

/** Registers an SDK when `BG_OTEL=console` or `OTEL_EXPORTER_OTLP_ENDPOINT` says so; `undefined` otherwise. */
export function setupTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry | undefined {
  const toConsole = env.BG_OTEL === 'console';
  const otlp = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!toConsole && !otlp) return undefined;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      toConsole ? new SimpleSpanProcessor(consoleSpans(service)) : new BatchSpanProcessor(new OTLPTraceExporter()),
    ],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: toConsole ? consoleMetrics(service) : new OTLPMetricExporter(),
        exportIntervalMillis: 10_000,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);
  const otel = instrument({ backlogIntervalMs: 10_000 });
  const tracer = trace.getTracer('bg-example');
  return {
    otel,
    traced(listener) {
      return (req: IncomingMessage, res: ServerResponse) => {
        const path = (req.url ?? '/').split('?')[0];
        const span = tracer.startSpan(`${req.method ?? 'GET'} ${path}`, {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path },
        });
        res.once('finish', () => {
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        });
        context.with(trace.setSpan(context.active(), span), () => listener(req, res));
      };
    },
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
