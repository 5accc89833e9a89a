export { POSTGRES_CAPABILITIES } from './capabilities.js';
export { type EffectivelyOnceOptions, effectivelyOnce, type TransactionalContext } from './effectively-once.js';
export { fromUrl, schemes } from './from-url.js';
export { mapPgError } from './map-error.js';
export type { PostgresAdapterOptions } from './options.js';
export { type PostgresAdapter, postgresAdapter } from './postgres-adapter.js';
export { type PostgresUrl, parsePostgresUrl } from './postgres-url.js';
export { assertSchemaName, channelOf, SCHEMA_VERSION, schemaSql } from './schema-sql.js';
