import type { Envelope, InstrumentationTarget, JobContext, Logger, ReceivedMessage, WorkerEvent, WorkerHooks } from '@bg/core';
import {
  type Attributes,
  context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ATTR, EVENT } from './attributes.js';
import { errorType } from './error-type.js';
import { withTraceIds } from './logger.js';
import { messagingSystem } from './messaging-system.js';
import { AttributeCache, type BgInstruments } from './metrics.js';
import { type Delivery, OpenDeliveries } from './open-deliveries.js';
import { recordFailure, safely } from './producer.js';
import { fromTraceCarrier } from './trace-context.js';

/** How a `process` span relates to the producer's span. */
export type ProcessParent = 'child' | 'link';

/** Epoch ms with sub-ms precision (span times). */
const clock = (): number => performance.timeOrigin + performance.now();

/**
 * The `error.type` of `messaging.process.duration` for a handler run that returned but was never
 * acked (the `finished` event's `why`; a `deferred` event of a handler that gave up on a stop).
 */
export const UNSETTLED_RUN = Object.freeze({
  'lease-lost': 'LEASE_LOST',
  shutdown: 'SHUTDOWN',
  'not-settled': 'NOT_SETTLED',
} as const);

/** Ended spans kept for log correlation. */
const RECENT = 256;

/**
 * The `bg.job.type` metrics get for a type that no worker here handles: such a type comes from
 * the message alone (a foreign or hostile producer), and every new value would be a new series.
 */
export const OTHER_JOB_TYPE = '_OTHER';

/**
 * The wait (s) of a job's first delivery, received now: from enqueue, or from the end of a long
 * delay, to now, on the wall clock (as `createdAt` and `notBefore` were written: the span clock
 * can differ from it by milliseconds, more than a fast queue's wait). `undefined` for a delivery
 * before `notBefore` (a hop of a long delay, not an attempt). A producer whose clock runs ahead
 * counts as no wait.
 */
function firstWait(envelope: Envelope): number | undefined {
  const now = Date.now();
  const notBefore = envelope.notBefore ? Date.parse(envelope.notBefore) : undefined;
  if (notBefore !== undefined && now < notBefore) return undefined;
  const due = Math.max(Date.parse(envelope.createdAt), notBefore ?? 0);
  return Math.max(0, now - due) / 1000;
}

/**
 * The worker hooks: a `process <queue>` CONSUMER span per delivery (child of, or linked to, the
 * producer's context from the envelope; always linked), settle outcomes as span events, the
 * handler run inside the span's context, metrics, and a logger whose calls carry trace ids.
 */
export function workerHooks(
  target: InstrumentationTarget,
  tracer: () => Tracer,
  instruments: () => BgInstruments,
  parentMode: ProcessParent,
): WorkerHooks {
  const queue = target.queue;
  const base: Attributes = { [ATTR.system]: messagingSystem(target.adapter.name), [ATTR.destination]: queue };
  const metricAttributes = new AttributeCache({ ...base, [ATTR.operationName]: 'process' });
  const spanName = `process ${queue}`;
  /** Open deliveries (see {@link OpenDeliveries} for two of one job at once). */
  const deliveries = new OpenDeliveries();

  /** Job types a worker here has a handler for (`decoded`'s `registered`): the only ones metrics name. */
  const handled = new Set<string>();
  const metricType = (jobType: string | undefined): string | undefined =>
    jobType === undefined || handled.has(jobType) ? jobType : OTHER_JOB_TYPE;
  const byType = (eventType: string | undefined): Attributes => {
    const jobType = metricType(eventType);
    return metricAttributes.get(jobType ?? '', () => (jobType === undefined ? {} : { [ATTR.jobType]: jobType }));
  };
  const byTypeAnd = (eventType: string | undefined, key: string, value: string): Attributes => {
    const jobType = metricType(eventType);
    return metricAttributes.get(`${jobType ?? ''}\0${key}\0${value}`, () => ({
      ...(jobType === undefined ? {} : { [ATTR.jobType]: jobType }),
      [key]: value,
    }));
  };
  /** Records metrics; a meter that throws loses the metric, never the spans. */
  const record = (fn: (m: BgInstruments) => void): void => safely(() => fn(instruments()));
  /** Records the queue latency of a first delivery that turned out to be an attempt (once). */
  const recordLatency = (delivery: Delivery | undefined): void => {
    const latency = delivery?.latency;
    if (delivery === undefined || latency === undefined) return;
    delivery.latency = undefined;
    record((m) => m.queueLatency.record(latency, byType(delivery.jobType)));
  };

  function startSpan(jobId: string, delivery: Delivery, envelope: Envelope | undefined): Span {
    const producer = fromTraceCarrier(envelope?.trace);
    const links: Link[] = producer ? [{ context: producer }] : [];
    const parent = producer && parentMode === 'child' ? trace.setSpanContext(ROOT_CONTEXT, producer) : ROOT_CONTEXT;
    const span = tracer().startSpan(
      spanName,
      {
        kind: SpanKind.CONSUMER,
        startTime: delivery.receivedAt,
        links,
        attributes: {
          ...base,
          [ATTR.operationType]: 'process',
          [ATTR.operationName]: 'process',
          [ATTR.messageId]: jobId,
          [ATTR.deliveryCount]: delivery.deliveryCount,
          ...(envelope ? { [ATTR.jobType]: envelope.type } : {}),
        },
      },
      parent,
    );
    delivery.span = span;
    delivery.context = trace.setSpan(parent, span);
    return span;
  }

  /** Spans of deliveries that just ended, for the worker's log lines that follow an outcome. */
  const recent = new Map<string, Span>();

  function finish(jobId: string, delivery: Delivery): void {
    deliveries.delete(delivery);
    const span = delivery.span;
    if (!span) return;
    span.end();
    if (!trace.isSpanContextValid(span.spanContext())) return;
    recent.delete(jobId);
    recent.set(jobId, span);
    if (recent.size > RECENT) recent.delete(recent.keys().next().value as string);
  }

  function onEvent(event: WorkerEvent): void {
    switch (event.type) {
      case 'received': {
        deliveries.receive(event.jobId, event.deliveryCount, clock());
        return;
      }
      case 'started': {
        const delivery = deliveries.start(event.jobId, event.attempt);
        recordLatency(delivery);
        delivery?.span?.setAttribute(ATTR.attempt, event.attempt);
        return;
      }
      case 'succeeded': {
        const delivery = deliveries.ran(event.jobId, event.attempt);
        if (delivery) {
          safely(() => delivery.span?.addEvent(EVENT.ack));
          finish(event.jobId, delivery);
        }
        record((m) => m.processDuration.record(event.durationMs / 1000, byType(event.jobType)));
        return;
      }
      case 'failed': {
        const span = deliveries.ran(event.jobId, event.attempt)?.span;
        if (span?.isRecording()) safely(() => recordFailure(span, event.error));
        record((m) =>
          m.processDuration.record(event.durationMs / 1000, byTypeAnd(event.jobType, ATTR.errorType, errorType(event.error))),
        );
        return;
      }
      case 'retried': {
        record((m) => m.retries.add(1, byType(event.jobType)));
        const delivery = deliveries.ran(event.jobId, event.attempt);
        if (!delivery) return;
        safely(() => delivery.span?.addEvent(EVENT.retry, { [ATTR.delayMs]: event.delayMs, [ATTR.attempt]: event.attempt }));
        finish(event.jobId, delivery);
        return;
      }
      case 'dead-lettered': {
        record((m) => m.deadLetters.add(1, byTypeAnd(event.jobType, ATTR.deadLetterReason, event.reason)));
        const delivery = deliveries.ran(event.jobId, event.attempt);
        if (!delivery) return;
        // A first delivery dead-lettered without running (an invalid payload) was its attempt.
        recordLatency(delivery);
        // The span of a delivery that had none (a malformed envelope) is started here: a span
        // processor whose onStart throws must not keep the delivery open (one record per job).
        const hadSpan = delivery.span !== undefined;
        safely(() => {
          const span = delivery.span ?? startSpan(event.jobId, delivery, undefined);
          if (!span.isRecording()) return;
          span.addEvent(EVENT.deadLetter, { [ATTR.deadLetterReason]: event.reason, [ATTR.attempt]: event.attempt });
          if (!hadSpan || event.reason !== 'max-attempts') {
            span.setAttribute(ATTR.errorType, event.error?.code ?? event.reason);
            span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered: ${event.reason}` });
          }
        });
        finish(event.jobId, delivery);
        return;
      }
      case 'deferred': {
        // Put back without running: no attempt, its queue latency is not recorded.
        const delivery = deliveries.deferred(event.jobId, event.deliveryCount);
        record((m) => m.deferrals.add(1, byTypeAnd(delivery?.jobType, ATTR.deferReason, event.why)));
        // A handler that gave up when the worker stopped: its run, handed back, not an attempt.
        const ranMs = event.durationMs;
        if (ranMs !== undefined) {
          record((m) =>
            m.processDuration.record(ranMs / 1000, byTypeAnd(delivery?.jobType, ATTR.errorType, UNSETTLED_RUN.shutdown)),
          );
        }
        if (!delivery) return;
        // `fresh-count`: the re-send of a due delayed job (so its parks do not count as attempts) is
        // the last step of its delay, like a hop.
        const hop = event.why === 'not-before' || event.why === 'fresh-count';
        safely(() =>
          delivery.span?.addEvent(hop ? EVENT.hop : EVENT.defer, {
            [ATTR.deferReason]: event.why,
            [ATTR.delayMs]: event.delayMs,
          }),
        );
        finish(event.jobId, delivery);
        return;
      }
      case 'lease-extended': {
        record((m) => m.leaseExtensions.add(1, byType(event.jobType)));
        deliveries.oldest(event.jobId)?.span?.addEvent(EVENT.leaseExtended);
        return;
      }
      case 'lease-lost': {
        record((m) => m.leaseLost.add(1, byType(event.jobType)));
        const delivery = deliveries.oldest(event.jobId);
        if (!delivery) return;
        const span = delivery.span;
        if (span?.isRecording())
          safely(() => {
            span.addEvent(EVENT.leaseLost);
            span.setAttribute(ATTR.errorType, 'LEASE_LOST');
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'lease lost' });
          });
        finish(event.jobId, delivery);
        return;
      }
      case 'finished': {
        // The run of a handler whose delivery was let go (lease lost, handed back at the end of a
        // stop's grace period) or could not be settled: its span was ended by the event that let
        // it go; only its duration is left to record, failed in any case (never acked).
        const type = event.error !== undefined ? errorType(event.error) : UNSETTLED_RUN[event.why];
        record((m) => m.processDuration.record(event.durationMs / 1000, byTypeAnd(event.jobType, ATTR.errorType, type)));
        return;
      }
      case 'error': {
        // The failure ended the delivery (its ack, retry, dead letter or hand-back failed): the
        // job stays in storage and comes back. Other failures (a receive) name no job.
        const { jobId } = event;
        const delivery = jobId === undefined ? undefined : deliveries.oldest(jobId);
        if (jobId === undefined || !delivery) return;
        const span = delivery.span;
        if (span?.isRecording()) safely(() => recordFailure(span, event.error));
        finish(jobId, delivery);
        return;
      }
    }
  }

  return {
    onEvent,
    decoded(message: ReceivedMessage, envelope: Envelope, registered = true) {
      const delivery = deliveries.decoded(message.id, message.deliveryCount, clock());
      delivery.jobType = envelope.type;
      if (registered && handled.size < 10_000) handled.add(envelope.type);
      safely(() => startSpan(message.id, delivery, envelope));
      record((m) => m.consumed.add(1, byType(envelope.type)));
      // Queue latency: the first attempt, from enqueue (or the end of a long delay) to its receipt;
      // recorded once this delivery turns out to be an attempt (not a hop, re-send or deferral).
      if (message.deliveryCount === 1) safely(() => (delivery.latency = firstWait(envelope)));
    },
    runHandler<T>(jobContext: JobContext, run: () => T): T {
      const active = deliveries.running(jobContext.jobId, jobContext.attempt)?.context;
      return active ? context.with(active, run) : run();
    },
    logger(logger: Logger): Logger {
      return withTraceIds(logger, (data) => {
        const jobId = data?.jobId;
        return typeof jobId === 'string' ? (deliveries.newest(jobId)?.span ?? recent.get(jobId)) : undefined;
      });
    },
  };
}
