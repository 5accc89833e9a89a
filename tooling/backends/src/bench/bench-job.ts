import { randomBytes } from 'node:crypto';
import { defineJob, encodeEnvelope, uuidv7 } from '@bg/core';
import { passThrough } from '../pass-through-schema.js';

/** Payload of {@link benchJob}. */
export interface BenchPayload {
  readonly userId: string;
  readonly locale: string;
  readonly note: string;
}

/** The benchmarks' no-op job: a ~200-byte payload, validated by a pass-through Standard Schema. */
export const benchJob = defineJob({
  type: 'bench.noop',
  schema: passThrough<BenchPayload>('bg-bench'),
});

/** `n` payloads of {@link benchJob}. */
export function benchPayloads(n: number): BenchPayload[] {
  return Array.from({ length: n }, (_, i) => ({ userId: `u-${i}`, locale: 'de', note: 'x'.repeat(160) }));
}

/** The adapter and raw benchmarks' message body: about 200 bytes of JSON. */
export const benchBody = JSON.stringify({ userId: 'u-123456', locale: 'de', note: 'x'.repeat(160) });

/** A fresh queue name for one round of one contestant. */
export function benchQueueName(kind: string): string {
  return `bench-${kind}-${randomBytes(4).toString('hex')}`;
}

/**
 * `n` messages as the public API writes {@link benchJob}s (UUIDv7 id, the encoded envelope,
 * the `bg-type` attribute), for raw and adapter-level contestants (encoding them is not timed).
 */
export function benchEnvelopes(n: number): { id: string; body: string; attributes: Record<string, string> }[] {
  const createdAt = new Date().toISOString();
  return benchPayloads(n).map((payload) => {
    const id = uuidv7();
    const body = encodeEnvelope({ bg: 1, id, type: benchJob.type, v: 1, payload: { ...payload }, createdAt });
    return { id, body, attributes: { 'bg-type': benchJob.type } };
  });
}
