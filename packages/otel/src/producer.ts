import type { EnqueueResult, ErrorInfo, InstrumentationTarget, ProducerHooks, SendInfo, TraceCarrier } from '@bg/core';
import { isBgError, toErrorInfo } from '@bg/core';
import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR } from './attributes.js';
import { errorType } from './error-type.js';
import { messagingSystem } from './messaging-system.js';
import { AttributeCache, type BgInstruments } from './metrics.js';
import { fromTraceCarrier, toTraceCarrier } from './trace-context.js';

/** Marks a span failed with a redacted exception event. */
export function recordFailure(span: Span, info: ErrorInfo): void {
  span.setAttribute(ATTR.errorType, errorType(info));
  span.addEvent('exception', {
    'exception.type': errorType(info),
    'exception.message': info.message,
    ...(info.stack ? { 'exception.stacktrace': info.stack } : {}),
  });
  span.setStatus({ code: SpanStatusCode.ERROR, message: info.message });
}

/**
 * Codes of failures raised before a job reached the backend (validation, size): such a job was
 * never sent, and `messaging.client.sent.messages` must not count it. The span still shows it.
 */
const NOT_SENT = new Set(['INVALID_PAYLOAD', 'INVALID_ARGUMENT', 'INVALID_JOB_DEFINITION', 'PAYLOAD_TOO_LARGE']);

/**
 * How many jobs of a failed send were stored after all: a partial send's `details.sentIds`
 * (an `enqueueMany` whose later batch failed), else none.
 */
function storedOf(error: unknown, count: number): number {
  if (!isBgError(error)) return 0;
  const sentIds = (error.details as { sentIds?: unknown } | undefined)?.sentIds;
  return Array.isArray(sentIds) ? Math.min(sentIds.length, count) : 0;
}

/** Runs telemetry code: what it throws is dropped (telemetry never fails or repeats a send). */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // an SDK, processor or exporter bug must not reach the job
  }
}

/**
 * The producer hooks: one `send <queue>` PRODUCER span per `enqueue`/`enqueueMany` (child of
 * the caller's explicit `trace`, else of the active context), its context written into every
 * envelope of the call (also when it is not sampled, so that the workers keep the request's
 * trace and its sampling decision), the `messaging.client.sent.messages` counter and the
 * `messaging.client.operation.duration` histogram. `run` is called exactly once, outside any
 * telemetry code: a tracer, processor or meter that throws changes nothing about the send.
 */
export function producerHooks(
  target: InstrumentationTarget,
  tracer: () => Tracer,
  instruments: () => BgInstruments,
): ProducerHooks {
  const queue = target.queue;
  const base: Attributes = { [ATTR.system]: messagingSystem(target.adapter.name), [ATTR.destination]: queue };
  const metricAttributes = new AttributeCache({ ...base, [ATTR.operationName]: 'send' });
  const spanName = `send ${queue}`;

  return {
    async send(info: SendInfo, run: (trace: TraceCarrier | undefined) => Promise<EnqueueResult[]>): Promise<EnqueueResult[]> {
      const startedAt = performance.now();
      let span: Span | undefined;
      let parent: Context = ROOT_CONTEXT;
      safely(() => {
        const explicit = fromTraceCarrier(info.trace);
        parent = explicit ? trace.setSpanContext(ROOT_CONTEXT, explicit) : context.active();
        span = tracer().startSpan(
          spanName,
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              ...base,
              [ATTR.operationType]: 'send',
              [ATTR.operationName]: 'send',
              [ATTR.jobType]: info.jobType,
              ...(info.count !== 1 ? { [ATTR.batchCount]: info.count } : {}),
            },
          },
          parent,
        );
      });
      // A span that is not recorded (not sampled) still carries the trace: its context goes into
      // the envelopes, with the sampled flag off, so that the workers follow the same decision.
      const spanContext = span?.spanContext();
      const carrier = spanContext && trace.isSpanContextValid(spanContext) ? toTraceCarrier(spanContext) : undefined;
      let called = false;
      const send = (): Promise<EnqueueResult[]> => {
        called = true;
        return run(carrier);
      };
      let sending: Promise<EnqueueResult[]>;
      try {
        sending = carrier && span ? context.with(trace.setSpan(parent, span), send) : send();
      } catch (error) {
        // A context manager that failed before the send: send without it.
        sending = called ? Promise.reject(error) : send();
      }
      let results: EnqueueResult[];
      try {
        results = await sending;
      } catch (error) {
        safely(() => {
          const failure = toErrorInfo(error);
          const type = errorType(failure);
          if (span?.isRecording()) recordFailure(span, failure);
          span?.end();
          const attributes = metricAttributes.get(`${info.jobType}\0${type}`, () => ({
            [ATTR.jobType]: info.jobType,
            [ATTR.errorType]: type,
          }));
          const m = instruments();
          m.sendDuration.record((performance.now() - startedAt) / 1000, attributes);
          if (NOT_SENT.has(type)) return;
          // A partial send stored some jobs: those count as sent, only the others as failed.
          const stored = storedOf(error, info.count);
          if (stored > 0)
            m.sent.add(
              stored,
              metricAttributes.get(info.jobType, () => ({ [ATTR.jobType]: info.jobType })),
            );
          if (info.count > stored) m.sent.add(info.count - stored, attributes);
        });
        throw error;
      }
      safely(() => {
        if (span?.isRecording() && results.length === 1 && results[0]) span.setAttribute(ATTR.messageId, results[0].id);
        span?.end();
        const attributes = metricAttributes.get(info.jobType, () => ({ [ATTR.jobType]: info.jobType }));
        const m = instruments();
        m.sendDuration.record((performance.now() - startedAt) / 1000, attributes);
        m.sent.add(results.length, attributes);
      });
      return results;
    },
  };
}
