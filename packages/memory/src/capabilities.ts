import { BgError, type Capabilities } from '@bg/core/adapter';

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

const LIMIT_NAMES: readonly (keyof MemoryLimits)[] = [
  'maxPayloadBytes',
  'maxDelayMs',
  'maxLeaseMs',
  'maxBatchSize',
  'maxReleaseDelayMs',
];

/**
 * The manifest with the caller's overrides. Each must be a whole number ≥ 1 (`maxDelayMs` and
 * `maxReleaseDelayMs` may be 0) and `maxLeaseMs` at least the manifest's `minLeaseMs`; an unknown
 * name, a `NaN` or a string is `INVALID_ARGUMENT` (a `NaN` limit would let everything through).
 */
export function memoryCapabilities(overrides: MemoryLimits = {}): Capabilities {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new BgError('INVALID_ARGUMENT', 'memoryAdapter capabilities must be an object of limits', { retryable: false });
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!LIMIT_NAMES.includes(name as keyof MemoryLimits)) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `memoryAdapter capabilities: ${name} cannot be set (only ${LIMIT_NAMES.join(', ')})`,
        {
          retryable: false,
        },
      );
    }
    const min = name === 'maxDelayMs' || name === 'maxReleaseDelayMs' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new BgError(
        'INVALID_ARGUMENT',
        `memoryAdapter capabilities: ${name} must be a whole number ≥ ${min}, got ${String(value)}`,
        {
          retryable: false,
        },
      );
    }
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return Object.freeze({ ...MEMORY_CAPABILITIES, ...defined });
}
