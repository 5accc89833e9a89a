import type { TraceCarrier } from '@bg/core';
import { createTraceState, type SpanContext, TraceFlags } from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const INVALID_TRACE = /^0+$/;

/** The longest `tracestate` an envelope's `trace` field holds (envelope v1). */
export const MAX_TRACESTATE_LENGTH = 2048;

/**
 * A `tracestate` that fits the envelope: whole list members are dropped from the end (the W3C
 * way to shorten it) until it does. Spans get their trace state from any propagator or sampler;
 * one too long for the envelope would make the enqueue fail.
 */
function fitted(tracestate: string): string {
  let kept = tracestate;
  while (kept.length > MAX_TRACESTATE_LENGTH) {
    const cut = kept.lastIndexOf(',');
    kept = cut < 0 ? '' : kept.slice(0, cut);
  }
  return kept.trim();
}

/**
 * The W3C `traceparent` (and `tracestate`) of a span context: the envelope's `trace` field is
 * W3C trace context by definition, whatever propagator the application registered. A trace state
 * longer than the envelope takes ({@link MAX_TRACESTATE_LENGTH}) loses its last list members.
 */
export function toTraceCarrier(span: SpanContext): TraceCarrier {
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const serialized = span.traceState?.serialize();
  const tracestate = typeof serialized === 'string' ? fitted(serialized) : undefined;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * The remote span context an envelope's `trace` field names, or `undefined` when it is absent
 * or not valid W3C trace context (version `ff`, all-zero ids, wrong lengths).
 */
export function fromTraceCarrier(carrier: TraceCarrier | undefined): SpanContext | undefined {
  // From an envelope or a caller's `trace` option: anything may be there (core refuses a bad
  // option, but after this hook has read it).
  if (typeof carrier !== 'object' || carrier === null || typeof carrier.traceparent !== 'string') return undefined;
  const traceparent = carrier.traceparent.trim();
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && traceparent.length !== 55)) return undefined;
  if (INVALID_TRACE.test(traceId) || INVALID_TRACE.test(spanId)) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(typeof carrier.tracestate === 'string' && carrier.tracestate !== ''
      ? { traceState: createTraceState(carrier.tracestate) }
      : {}),
  };
}
