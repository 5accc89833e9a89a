import { type Capabilities, STORE_CAPABILITIES } from '@bg/core/adapter';

/**
 * The PostgreSQL adapter's manifest: the kit's {@link STORE_CAPABILITIES}, for a queue bg
 * builds on rows. A `text` column holds up to 1 GB; 1 MiB keeps rows and round trips sane
 * (raise it with the `maxPayloadBytes` option). Delays and releases are a `visible_at` time in
 * the row, so any length up to 10 years is native; leases are clamped at 12 hours. The
 * delivery count is a column bumped by the receiving statement, so it survives any crash.
 * Deduplication keys are rows of `<schema>.dedup`: a key blocks a second send for the
 * adapter's `deduplicationWindowMs` (default 5 min) from the first send, whether the first job
 * is still stored, completed or dead-lettered.
 */
export const POSTGRES_CAPABILITIES: Capabilities = STORE_CAPABILITIES;
