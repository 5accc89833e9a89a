import type { Envelope, InstrumentationTarget, JobContext, Logger, ReceivedMessage, WorkerEvent, WorkerHooks } from '@bg/core';
import {
  type Attributes,
  type Context,
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
import { withTraceIds } from './logger.js';
import { messagingSystem } from './messaging-system.js';
import { AttributeCache, type BgInstruments } from './metrics.js';
import { errorType, recordFailure, safely } from './producer.js';
import { fromTraceCarrier } from './trace-context.js';

/** How a `process` span relates to the producer's span. */
export type ProcessParent = 'child' | 'link';

/** One delivery a worker holds, from `received` until its outcome. */
interface Delivery {
  readonly receivedAt: number;
  readonly deliveryCount: number;
  jobType: string | undefined;
  span: Span | undefined;
  context: Context | undefined;
}

/** Epoch ms with sub-ms precision (span times). */
const clock = (): number => performance.timeOrigin + performance.now();

/** Ended spans kept for log correlation. */
const RECENT = 256;

/**
 * The `bg.job.type` metrics get for a type that no worker here handles: such a type comes from
 * the message alone (a foreign or hostile producer), and every new value would be a new series.
 */
export const OTHER_JOB_TYPE = '_OTHER';

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
  /**
   * Open deliveries by job id. Two deliveries of one job at once (a lease that expired while
   * its handler ran, or a re-sent job's new message received before the old one's `deferred`)
   * are told apart by the attempt or delivery count an event names; a lost lease is the oldest's.
   */
  const open = new Map<string, Delivery[]>();
  const deliveries = {
    get(jobId: string, attempt?: number): Delivery | undefined {
      const list = open.get(jobId);
      if (!list) return undefined;
      if (list.length === 1 || attempt === undefined) return list[list.length - 1];
      return list.find((d) => d.deliveryCount === attempt) ?? list[list.length - 1];
    },
    oldest(jobId: string): Delivery | undefined {
      return open.get(jobId)?.[0];
    },
    add(jobId: string, delivery: Delivery): void {
      const list = open.get(jobId);
      if (list) list.push(delivery);
      else open.set(jobId, [delivery]);
    },
    delete(jobId: string, delivery: Delivery): void {
      const list = open.get(jobId);
      if (!list) return;
      const at = list.indexOf(delivery);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) open.delete(jobId);
    },
  };

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
    deliveries.delete(jobId, delivery);
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
        deliveries.add(event.jobId, {
          receivedAt: clock(),
          deliveryCount: event.deliveryCount,
          jobType: undefined,
          span: undefined,
          context: undefined,
        });
        return;
      }
      case 'started': {
        deliveries.get(event.jobId, event.attempt)?.span?.setAttribute(ATTR.attempt, event.attempt);
        return;
      }
      case 'succeeded': {
        const delivery = deliveries.get(event.jobId, event.attempt);
        if (delivery) {
          safely(() => delivery.span?.addEvent(EVENT.ack));
          finish(event.jobId, delivery);
        }
        record((m) => m.processDuration.record(event.durationMs / 1000, byType(event.jobType)));
        return;
      }
      case 'failed': {
        const span = deliveries.get(event.jobId, event.attempt)?.span;
        if (span?.isRecording()) safely(() => recordFailure(span, event.error));
        record((m) =>
          m.processDuration.record(event.durationMs / 1000, byTypeAnd(event.jobType, ATTR.errorType, errorType(event.error))),
        );
        return;
      }
      case 'retried': {
        record((m) => m.retries.add(1, byType(event.jobType)));
        const delivery = deliveries.get(event.jobId, event.attempt);
        if (!delivery) return;
        delivery.span?.addEvent(EVENT.retry, { [ATTR.delayMs]: event.delayMs, [ATTR.attempt]: event.attempt });
        finish(event.jobId, delivery);
        return;
      }
      case 'dead-lettered': {
        record((m) => m.deadLetters.add(1, byTypeAnd(event.jobType, ATTR.deadLetterReason, event.reason)));
        const delivery = deliveries.get(event.jobId, event.attempt);
        if (!delivery) return;
        const span = delivery.span ?? startSpan(event.jobId, delivery, undefined);
        if (span.isRecording()) {
          span.addEvent(EVENT.deadLetter, { [ATTR.deadLetterReason]: event.reason, [ATTR.attempt]: event.attempt });
          if (!delivery.span || event.reason !== 'max-attempts') {
            span.setAttribute(ATTR.errorType, event.error?.code ?? event.reason);
            span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered: ${event.reason}` });
          }
        }
        finish(event.jobId, delivery);
        return;
      }
      case 'deferred': {
        const delivery = deliveries.get(event.jobId, event.deliveryCount);
        record((m) => m.deferrals.add(1, byTypeAnd(delivery?.jobType, ATTR.deferReason, event.why)));
        if (!delivery) return;
        // `fresh-count`: the re-send of a due delayed job (so its parks do not count as attempts) is
        // the last step of its delay, like a hop.
        const hop = event.why === 'not-before' || event.why === 'fresh-count';
        delivery.span?.addEvent(hop ? EVENT.hop : EVENT.defer, {
          [ATTR.deferReason]: event.why,
          [ATTR.delayMs]: event.delayMs,
        });
        finish(event.jobId, delivery);
        return;
      }
      case 'lease-extended': {
        record((m) => m.leaseExtensions.add(1, byType(event.jobType)));
        deliveries.get(event.jobId)?.span?.addEvent(EVENT.leaseExtended);
        return;
      }
      case 'lease-lost': {
        record((m) => m.leaseLost.add(1, byType(event.jobType)));
        const delivery = deliveries.oldest(event.jobId);
        if (!delivery) return;
        const span = delivery.span;
        if (span?.isRecording()) {
          span.addEvent(EVENT.leaseLost);
          span.setAttribute(ATTR.errorType, 'LEASE_LOST');
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'lease lost' });
        }
        finish(event.jobId, delivery);
        return;
      }
      case 'error': {
        // The failure ended the delivery (its ack, retry, dead letter or hand-back failed): the
        // job stays in storage and comes back. Other failures (a receive) name no job.
        const { jobId } = event;
        const delivery = jobId === undefined ? undefined : deliveries.get(jobId);
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
      let delivery = deliveries.get(message.id, message.deliveryCount);
      if (!delivery) {
        delivery = {
          receivedAt: clock(),
          deliveryCount: message.deliveryCount,
          jobType: undefined,
          span: undefined,
          context: undefined,
        };
        deliveries.add(message.id, delivery);
      }
      delivery.jobType = envelope.type;
      if (registered && handled.size < 10_000) handled.add(envelope.type);
      const held = delivery;
      safely(() => startSpan(message.id, held, envelope));
      record((m) => {
        m.consumed.add(1, byType(envelope.type));
        // Queue latency: the first attempt, from enqueue (or the end of a long delay) to now.
        if (message.deliveryCount === 1) {
          // On the wall clock, as `createdAt` and `notBefore` were written: the span clock (the
          // time origin plus a monotonic offset) can differ from it by milliseconds, more than a
          // fast queue's wait. A delivery before `notBefore` is a hop of a long delay, not an
          // attempt: not counted. A producer whose clock runs ahead counts as no wait.
          const now = Date.now();
          const notBefore = envelope.notBefore ? Date.parse(envelope.notBefore) : undefined;
          if (notBefore === undefined || now >= notBefore) {
            const due = Math.max(Date.parse(envelope.createdAt), notBefore ?? 0);
            m.queueLatency.record(Math.max(0, now - due) / 1000, byType(envelope.type));
          }
        }
      });
    },
    runHandler<T>(jobContext: JobContext, run: () => T): T {
      const active = deliveries.get(jobContext.jobId, jobContext.attempt)?.context;
      return active ? context.with(active, run) : run();
    },
    logger(logger: Logger): Logger {
      return withTraceIds(logger, (data) => {
        const jobId = data?.jobId;
        return typeof jobId === 'string' ? (deliveries.get(jobId)?.span ?? recent.get(jobId)) : undefined;
      });
    },
  };
}
