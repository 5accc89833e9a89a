import type { Capabilities } from '@bg/core/adapter';

/** The memory adapter's manifest: every capability of the contract, generous limits. */
export const MEMORY_CAPABILITIES: Capabilities = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxDelayMs: 365 * 24 * 3_600_000,
  maxLeaseMs: 12 * 3_600_000,
  minLeaseMs: 1,
  maxReleaseDelayMs: 365 * 24 * 3_600_000,
  maxBatchSize: 1000,
  extendBeyondMax: 'reject',
  nativeDeliveryCount: true,
  nativeDeadLetter: false,
  ordering: true,
  deduplication: true,
  durable: false,
});

/** The limits a caller may lower (to test limit handling quickly). */
export type MemoryLimits = Partial<
  Pick<Capabilities, 'maxPayloadBytes' | 'maxDelayMs' | 'maxLeaseMs' | 'maxBatchSize' | 'maxReleaseDelayMs'>
>;

/** The manifest with the caller's overrides. */
export function memoryCapabilities(overrides: MemoryLimits = {}): Capabilities {
  return Object.freeze({ ...MEMORY_CAPABILITIES, ...overrides });
}
