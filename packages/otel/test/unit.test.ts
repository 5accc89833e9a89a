import { memoryAdapter } from '@bg/memory';
import { TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { fromTraceCarrier, instrument, messagingSystem, toTraceCarrier, withTraceIds } from '../src/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C trace context in envelopes', () => {
  it('reads a valid traceparent and tracestate, and writes them back unchanged', () => {
    const carrier = { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=abc,other=1' };
    const span = fromTraceCarrier(carrier);
    expect(span, `fromTraceCarrier(${carrier.traceparent})`).toMatchObject({ traceId: TRACE, spanId: SPAN, isRemote: true });
    expect(span?.traceFlags, 'sampled flag kept').toBe(TraceFlags.SAMPLED);
    expect(span && toTraceCarrier(span), 'toTraceCarrier(fromTraceCarrier(x)) is x').toEqual(carrier);
  });

  it.each([
    ['no carrier', undefined],
    ['version ff', { traceparent: `ff-${TRACE}-${SPAN}-01` }],
    ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }],
    ['all-zero span id', { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` }],
    ['short trace id', { traceparent: `00-${TRACE.slice(1)}-${SPAN}-01` }],
    ['upper-case hex', { traceparent: `00-${TRACE.toUpperCase()}-${SPAN}-01` }],
    ['version 00 with extra fields', { traceparent: `00-${TRACE}-${SPAN}-01-extra` }],
  ])('ignores an invalid trace field (%s): no parent rather than a broken one', (_why, carrier) => {
    expect(fromTraceCarrier(carrier), `fromTraceCarrier(${JSON.stringify(carrier)})`).toBeUndefined();
  });
});

describe('messaging.system per adapter', () => {
  it('uses the registered names where they exist and bg names elsewhere', () => {
    const names = ['sqs', 'pubsub', 'redis', 'azure-queue', 'memory', 'postgres'].map(messagingSystem);
    expect(names, 'messagingSystem(adapter.name)').toEqual([
      'aws_sqs',
      'gcp_pubsub',
      'redis',
      'azure_storage_queues',
      'bg_memory',
      'postgres',
    ]);
  });
});

describe('zero cost without an SDK', () => {
  it('gives producers and workers no hooks when nothing records, and hooks once a provider is given', async () => {
    const adapter = memoryAdapter();
    const none = instrument();
    expect(none.recording, 'instrument().recording with no SDK registered').toBe(false);
    expect(none.producer({ adapter, queue: 'q' }), 'producer hooks without an SDK').toBeUndefined();
    expect(none.worker({ adapter, queue: 'q' }), 'worker hooks without an SDK').toBeUndefined();
    const withSdk = instrument({ tracerProvider: new BasicTracerProvider(), backlogIntervalMs: false });
    expect(withSdk.producer({ adapter, queue: 'q' })?.send, 'producer hooks with a tracer provider').toBeTypeOf('function');
    expect(withSdk.worker({ adapter, queue: 'q' })?.onEvent, 'worker hooks with a tracer provider').toBeTypeOf('function');
    await adapter.close();
  });

  it('rejects an unknown processParent mode', () => {
    expect(() => instrument({ processParent: 'sibling' as 'child' }), "instrument({ processParent: 'sibling' })").toThrow(
      /processParent/,
    );
  });
});

describe('withTraceIds', () => {
  it('passes lines outside any span through unchanged and keeps only the levels the logger has', () => {
    const lines: unknown[] = [];
    const log = withTraceIds({ info: (message, data) => lines.push([message, data]) });
    log.info?.('hello', { a: 1 });
    expect(lines, 'a line outside a span').toEqual([['hello', { a: 1 }]]);
    expect(log.warn, 'a level the logger lacks stays absent').toBeUndefined();
  });
});
