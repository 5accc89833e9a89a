import type { Capabilities } from '../adapter.js';

const TEN_YEARS_MS = 10 * 365 * 24 * 3_600_000;

/**
 * The manifest of a queue bg builds itself on a general-purpose store (rows of PostgreSQL,
 * streams of Redis …), where the store sets no limit that matters and bg chooses them:
 * bodies up to 1 MiB (rows and values stay sane; an adapter option may raise it), delays and
 * release delays up to 10 years (a time in the record), leases from 1 ms to 12 hours with
 * longer extensions clamped, batches of 1 000; the delivery count is kept by the store,
 * dead letters are written by the core, no ordering, deduplication by key, durable.
 * Spread it and override what differs for your store.
 */
export const STORE_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxDelayMs: TEN_YEARS_MS,
  maxLeaseMs: 12 * 3_600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: TEN_YEARS_MS,
  maxBatchSize: 1000,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: false,
  deduplication: true,
  durable: true,
});

/**
 * A frozen copy of `base` with the overrides that are defined (an `undefined` value keeps
 * the base's), e.g. an adapter's `maxPayloadBytes` option over its manifest.
 *
 * @example
 * ```ts
 * const capabilities = capabilitiesWith(MY_CAPABILITIES, { maxPayloadBytes: options.maxPayloadBytes })
 * ```
 */
export function capabilitiesWith(
  base: Capabilities,
  overrides: { readonly [K in keyof Capabilities]?: Capabilities[K] | undefined },
): Capabilities {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) out[key] = value;
  return Object.freeze(out as unknown as Capabilities);
}
