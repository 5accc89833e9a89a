import type { Instrumentation, InstrumentationTarget, Logger, ProducerHooks, WorkerHooks } from '@bg/core';
import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { Backlog } from './backlog.js';
import { withTraceIds } from './logger.js';
import { type BgInstruments, createInstruments } from './metrics.js';
import { checkOptions } from './options.js';
import { producerHooks } from './producer.js';
import { type ProcessParent, workerHooks } from './worker-hooks.js';

/** The instrumentation scope name of bg's spans and metrics. */
export const INSTRUMENTATION_SCOPE = '@bg/otel';

const NOOP_METER_PROTOTYPE: unknown = Object.getPrototypeOf(createNoopMeter());

/** Options of {@link instrument}. */
export interface OtelOptions {
  /** Tracer provider (default: the global one, `trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /**
   * Meter provider (default: the global one when the first producer or worker is made, so
   * register the SDK before `createQueue`/`createWorker`).
   */
  readonly meterProvider?: MeterProvider;
  /**
   * How a `process` span relates to the `send` span of its job: `'child'` (default: one trace
   * from the web request to the handler) or `'link'` (a trace of its own per delivery, linked).
   * It is linked in both cases, as the messaging conventions ask.
   */
  readonly processParent?: ProcessParent;
  /** Backlog gauges ask `stats()` at most this often per queue (default 15 000 ms); `false`: no gauges. */
  readonly backlogIntervalMs?: number | false;
}

/** What {@link instrument} returns: pass it as `instrumentation` to `createQueue` and `createWorker`. */
export interface BgOtel extends Instrumentation {
  /** The hooks of a producer; `undefined` (nothing to do) when neither traces nor metrics are recorded. */
  producer(target: InstrumentationTarget): ProducerHooks | undefined;
  /** The hooks of a worker; `undefined` (nothing to do) when neither traces nor metrics are recorded. */
  worker(target: InstrumentationTarget): WorkerHooks | undefined;
  /** True when an SDK (a tracer or a meter provider) records what bg reports. */
  readonly recording: boolean;
  /** Wraps any logger so that calls made inside a span (e.g. in a handler) carry its trace and span ids. */
  logger(logger: Logger): Logger;
}

/**
 * OpenTelemetry for bg: `send` and `process` spans following the messaging semantic
 * conventions, the producer's trace context carried in each envelope, metrics per queue and
 * job type, backlog gauges, and trace ids on the worker's log lines. Uses whatever SDK the
 * application registered; with none, it records nothing and costs next to nothing. Options of
 * the wrong kind (an unknown name, a tracer for a provider, a `backlogIntervalMs` of `NaN`) are
 * `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * const otel = instrument()
 * const jobs = createQueue({ adapter, queue: 'emails', instrumentation: otel })
 * const worker = createWorker({ adapter, queue: 'emails', instrumentation: otel })
 * ```
 */
export function instrument(given?: OtelOptions): BgOtel {
  const options = checkOptions(given);
  const parentMode = options.processParent ?? 'child';
  let tracer: Tracer | undefined;
  let meter: Meter | undefined;
  let instruments: BgInstruments | undefined;
  const getTracer = (): Tracer => {
    tracer ??= (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
    return tracer;
  };
  const getMeter = (): Meter => {
    if (meter) return meter;
    const found = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
    // A no-op meter (no SDK yet) is not kept: a meter provider registered later is used.
    if (Object.getPrototypeOf(found) !== NOOP_METER_PROTOTYPE) meter = found;
    return found;
  };
  const getInstruments = (): BgInstruments => {
    if (instruments) return instruments;
    const made = createInstruments(getMeter());
    if (meter) instruments = made;
    return made;
  };
  /**
   * Whether anything records: a provider given explicitly, or a global one registered. With
   * none, producers and workers get no hooks at all, so bg runs exactly as without this package.
   */
  const recording = (): boolean => {
    const provider = options.tracerProvider ?? trace.getTracerProvider();
    const tracing = !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(INSTRUMENTATION_SCOPE) !== undefined;
    return tracing || options.meterProvider !== undefined || Object.getPrototypeOf(getMeter()) !== NOOP_METER_PROTOTYPE;
  };
  const interval = options.backlogIntervalMs ?? 15_000;
  const backlog = interval === false ? undefined : new Backlog(interval, getMeter);

  return {
    get recording() {
      return recording();
    },
    producer(target) {
      if (!recording()) return undefined;
      const made = getInstruments();
      backlog?.watch(target.adapter, target.queue);
      return producerHooks(target, getTracer, () => made);
    },
    worker(target) {
      if (!recording()) return undefined;
      const made = getInstruments();
      backlog?.watch(target.adapter, target.queue);
      return workerHooks(target, getTracer, () => made, parentMode);
    },
    logger(logger) {
      return withTraceIds(logger);
    },
  };
}
