import type { EnqueueResult, ErrorInfo, InstrumentationTarget, ProducerHooks, SendInfo, TraceCarrier } from '@bg/core';
import { toErrorInfo } from '@bg/core';
import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR } from './attributes.js';
import { messagingSystem } from './messaging-system.js';
import { AttributeCache, type BgInstruments } from './metrics.js';
import { fromTraceCarrier, toTraceCarrier } from './trace-context.js';

/** The `error.type` of a failure: the BgError code, else the error's class name. */
export function errorType(info: ErrorInfo): string {
  return info.code ?? info.name ?? 'Error';
}

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
 * The producer hooks: one `send <queue>` PRODUCER span per `enqueue`/`enqueueMany` (child of
 * the caller's explicit `trace`, else of the active context), its context written into every
 * envelope of the call, and the `messaging.client.sent.messages` counter.
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
      const explicit = fromTraceCarrier(info.trace);
      const parent = explicit ? trace.setSpanContext(ROOT_CONTEXT, explicit) : context.active();
      const span = tracer().startSpan(
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
      const recording = span.isRecording();
      let results: EnqueueResult[];
      try {
        results = recording
          ? await context.with(trace.setSpan(parent, span), () => run(toTraceCarrier(span.spanContext())))
          : await run(undefined);
      } catch (error) {
        const failure = toErrorInfo(error);
        instruments().sent.add(
          info.count,
          metricAttributes.get(`${info.jobType}\0${errorType(failure)}`, () => ({
            [ATTR.jobType]: info.jobType,
            [ATTR.errorType]: errorType(failure),
          })),
        );
        if (recording) recordFailure(span, failure);
        span.end();
        throw error;
      }
      instruments().sent.add(
        results.length,
        metricAttributes.get(info.jobType, () => ({ [ATTR.jobType]: info.jobType })),
      );
      if (recording && results.length === 1 && results[0]) span.setAttribute(ATTR.messageId, results[0].id);
      span.end();
      return results;
    },
  };
}
