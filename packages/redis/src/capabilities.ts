import { type Capabilities, STORE_CAPABILITIES } from '@bg/core/adapter';

/**
 * The Redis adapter's manifest: the kit's {@link STORE_CAPABILITIES}, for a queue bg builds
 * on streams. Redis itself allows 512 MB values; 1 MiB keeps memory and latency sane (raise it
 * with the `maxPayloadBytes` option). Delays (a sorted set) and releases (the pending entry's
 * idle time) up to 10 years are native; leases are clamped at 12 hours.
 */
export const REDIS_CAPABILITIES: Capabilities = STORE_CAPABILITIES;
