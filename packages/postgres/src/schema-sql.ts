import { BgError } from '@bg/core';

/** The database clock in epoch ms, fixed for the statement (stable, so indexes apply). */
export const NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint';

/** Schema names the adapter accepts: a plain lowercase SQL identifier (quoted anyway). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** The version of the tables {@link schemaSql} creates. */
export const SCHEMA_VERSION = 4;

/** How long a deduplication key is remembered from its first send unless the adapter says otherwise (5 min). */
export const DEFAULT_DEDUPLICATION_WINDOW_MS = 300_000;

/**
 * Checks a schema name (`INVALID_ARGUMENT`, never retryable, when it is not a plain identifier,
 * or one PostgreSQL keeps for itself: `pg_…` and `information_schema`, where `create schema` fails).
 */
export function assertSchemaName(schema: string): void {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `invalid schema name ${JSON.stringify(String(schema).slice(0, 60))}: use 1-48 lowercase letters, digits and underscores, starting with a letter or underscore`,
      { retryable: false },
    );
  }
  if (schema.startsWith('pg_') || schema === 'information_schema') {
    throw new BgError(
      'INVALID_ARGUMENT',
      `invalid schema name "${schema}": PostgreSQL reserves information_schema and names starting with pg_ for itself`,
      { retryable: false },
    );
  }
}

/** The schema name as a quoted SQL identifier. */
export function ident(schema: string): string {
  assertSchemaName(schema);
  return `"${schema}"`;
}

/** The name of the advisory lock (`hashtext` of it) that migrations of `schema` take. */
export function migrationLockName(schema: string): string {
  return `bg-migrate:${schema}`;
}

/** The notification payload that wakes outbox relays (no queue name can start with `~`). */
export const OUTBOX_WAKEUP = '~outbox';

/** The LISTEN/NOTIFY channel of a schema: one channel, the queue name as payload. */
export function channelOf(schema: string): string {
  return `bg_${schema}`;
}

/**
 * The SQL that creates (or completes) the adapter's tables in `schema`: idempotent
 * (`if not exists` everywhere), safe to run from many processes at once (it takes a
 * transaction-level advisory lock) and to read before running it (`bgctl` prints it; so does
 * `console.log(schemaSql('bg'))`). {@link PostgresAdapter.migrate} runs it in a transaction.
 *
 * Tables: `queues` (the queues that exist), `jobs` (live jobs: waiting, delayed and leased;
 * `visible_at` is the time a job may be received — for a leased job the end of its lease),
 * `dead` (dead letters), `outbox` (the transactional outbox, see `@bg/postgres/outbox`),
 * `outbox_failed` (outbox rows the relay's target refused for good, with the error),
 * `processed` (job ids whose effects committed, for effectively-once handlers), `dedup`
 * (deduplication keys: the job id stored first with the key, remembered until `expires_at`,
 * the adapter's `deduplicationWindowMs` after that first send, whether the job is still stored
 * or not) and `schema_version`. A body PostgreSQL's `text` cannot hold byte for byte (a NUL character, a
 * lone surrogate) is stored as a JSON string with `body_json` set.
 */
export function schemaSql(schema = 'bg'): string {
  const s = ident(schema);
  return `-- bg PostgreSQL schema v${SCHEMA_VERSION} in schema ${s}
select pg_advisory_xact_lock(hashtext('${migrationLockName(schema)}'));
create schema if not exists ${s};
create table if not exists ${s}.schema_version (version integer not null);
create table if not exists ${s}.queues (
  name text primary key,
  created_at timestamptz not null default now()
);
create table if not exists ${s}.jobs (
  seq bigint generated always as identity primary key,
  queue text not null,
  id text not null,
  body text not null,
  body_json boolean not null default false,
  attributes text,
  visible_at bigint not null,
  deliveries integer not null default 0,
  lease_token bigint,
  enqueued_at bigint not null,
  dedup_key text
);
create index if not exists jobs_receive on ${s}.jobs (queue, visible_at, seq);
-- Up to v3 a key was held by this index while its job was stored. Since v4 the keys live in
-- dedup and jobs.dedup_key is no longer written; the (then empty) index stays for adapters of
-- earlier versions during a rolling upgrade, whose send statements name it in on conflict.
create unique index if not exists jobs_dedup on ${s}.jobs (queue, dedup_key) where dedup_key is not null;
create table if not exists ${s}.dead (
  seq bigint generated always as identity,
  queue text not null,
  id text not null,
  body text not null,
  body_json boolean not null default false,
  attributes text,
  reason text not null,
  error text,
  attempts integer not null,
  enqueued_at bigint,
  dead_lettered_at bigint not null,
  primary key (queue, id)
);
-- v2: dead letters are listed oldest first by (dead_lettered_at, id), the kit's cursor order.
drop index if exists ${s}.dead_list;
create index if not exists dead_order on ${s}.dead (queue, dead_lettered_at, id collate "C");
create table if not exists ${s}.outbox (
  seq bigint generated always as identity primary key,
  queue text not null,
  id text not null,
  body text not null,
  body_json boolean not null default false,
  attributes text,
  delay_ms bigint not null default 0,
  ordering_key text,
  dedup_key text,
  created_at bigint not null default (extract(epoch from clock_timestamp()) * 1000)::bigint
);
create index if not exists outbox_order on ${s}.outbox (queue, ordering_key, seq) where ordering_key is not null;
create or replace function ${s}.outbox_notify() returns trigger language plpgsql as $fn$
begin
  perform pg_notify('${channelOf(schema)}', '${OUTBOX_WAKEUP}');
  return null;
end
$fn$;
drop trigger if exists outbox_notify on ${s}.outbox;
create trigger outbox_notify after insert on ${s}.outbox for each statement execute function ${s}.outbox_notify();
-- v3: outbox rows the target refused for good (PAYLOAD_TOO_LARGE …), set aside by the relay with the error.
create table if not exists ${s}.outbox_failed (
  seq bigint primary key,
  queue text not null,
  id text not null,
  body text not null,
  body_json boolean not null default false,
  attributes text,
  delay_ms bigint not null default 0,
  ordering_key text,
  dedup_key text,
  created_at bigint not null,
  error_code text not null,
  error text not null,
  failed_at bigint not null
);
create table if not exists ${s}.processed (
  job_id text primary key,
  processed_at timestamptz not null default now()
);
-- v4: deduplication keys, remembered for the adapter's window from the first send whether
-- the job is still stored, acked or dead-lettered. claim is the transaction that stored the id.
create table if not exists ${s}.dedup (
  queue text not null,
  key text not null,
  id text not null,
  expires_at bigint not null,
  claim bigint not null default 0,
  primary key (queue, key)
);
create index if not exists dedup_expiry on ${s}.dedup (expires_at);
-- Keys of jobs stored before v4 (or by an earlier adapter during a rolling upgrade) keep
-- deduplicating: for the default window from now, or from a delayed or leased job's due time.
insert into ${s}.dedup (queue, key, id, expires_at)
  select queue, dedup_key, id, greatest(${NOW_MS}, visible_at) + ${DEFAULT_DEDUPLICATION_WINDOW_MS} from ${s}.jobs
  where dedup_key is not null
  on conflict (queue, key) do nothing;
insert into ${s}.schema_version (version)
  select ${SCHEMA_VERSION} where not exists (select 1 from ${s}.schema_version where version >= ${SCHEMA_VERSION});
`;
}
