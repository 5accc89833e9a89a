import { ident } from './schema-sql.js';

/** The database clock in epoch ms, fixed for the statement (stable, so indexes apply). */
export const NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint';

/** The columns of a dead letter (a `DeadRow`). */
const DEAD_COLUMNS = 'id, body, body_json, attributes, reason, error, attempts, enqueued_at, dead_lettered_at';

/** The SQL statements of the adapter for one schema (parameters in comments). */
export interface Statements {
  readonly schemaVersion: string;
  readonly ensureQueue: string;
  readonly queueExists: string;
  readonly listQueues: string;
  readonly deleteQueue: string;
  readonly send: string;
  readonly sendKeyed: string;
  readonly dedupIds: string;
  readonly receive: string;
  readonly nextVisible: string;
  readonly extend: string;
  readonly ack: string;
  readonly release: string;
  readonly deadLetter: string;
  readonly listDead: string;
  readonly listDeadAfter: string;
  readonly getDead: string;
  readonly replay: string;
  readonly purgeAll: string;
  readonly purgeIds: string;
  readonly stats: string;
}

/** Builds the statements for `schema` (checked and quoted). */
export function statements(schema: string): Statements {
  const s = ident(schema);
  return {
    schemaVersion: `select max(version) as version from ${s}.schema_version`,
    // $1 queue
    ensureQueue: `insert into ${s}.queues (name) values ($1) on conflict do nothing`,
    queueExists: `select 1 from ${s}.queues where name = $1`,
    listQueues: `select name from ${s}.queues order by name`,
    deleteQueue: `with q as (delete from ${s}.queues where name = $1 returning 1),
      j as (delete from ${s}.jobs where queue = $1 returning 1),
      d as (delete from ${s}.dead where queue = $1 returning 1)
      select (select count(*) from q) + (select count(*) from j) + (select count(*) from d) > 0 as existed`,
    // $1 queue, $2 ids, $3 bodies, $4 attributes, $5 delays, $6 dedup keys, $7 channel, $8 body_json flags
    send: `with input as (
        select * from unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::boolean[])
          with ordinality as t(id, body, attributes, delay_ms, dedup_key, body_json, n)
      ), ins as (
        insert into ${s}.jobs (queue, id, body, body_json, attributes, visible_at, enqueued_at, dedup_key)
        select $1, id, body, body_json, attributes, ${NOW_MS} + delay_ms, ${NOW_MS}, dedup_key from input order by n
        on conflict (queue, dedup_key) where dedup_key is not null do nothing
        returning id, dedup_key
      )
      select ins.id, ins.dedup_key, pg_notify($7, $1) from ins`,
    // The same for a batch with deduplication keys (same parameters). Rows are inserted in key
    // order, so two batches with the same keys in any order take their unique-index entries in
    // the same order and never deadlock; the seqs are drawn first, in input order, so the batch
    // is still received in send order. (A CTE with a volatile function is never inlined.)
    sendKeyed: `with input as materialized (
        select t.*, nextval(pg_get_serial_sequence('${s}.jobs', 'seq')) as seq
          from unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::boolean[])
          with ordinality as t(id, body, attributes, delay_ms, dedup_key, body_json, n)
      ), ins as (
        insert into ${s}.jobs (seq, queue, id, body, body_json, attributes, visible_at, enqueued_at, dedup_key)
        overriding system value
        select seq, $1, id, body, body_json, attributes, ${NOW_MS} + delay_ms, ${NOW_MS}, dedup_key from input
        order by dedup_key collate "C", n
        on conflict (queue, dedup_key) where dedup_key is not null do nothing
        returning id, dedup_key
      )
      select ins.id, ins.dedup_key, pg_notify($7, $1) from ins`,
    // $1 queue, $2 keys
    dedupIds: `select dedup_key, id from ${s}.jobs where queue = $1 and dedup_key = any($2::text[])`,
    // $1 queue, $2 max, $3 lease ms, $4 lease token
    receive: `update ${s}.jobs j
      set visible_at = ${NOW_MS} + $3::bigint, deliveries = j.deliveries + 1, lease_token = $4::bigint
      from (
        select seq from ${s}.jobs
        where queue = $1 and visible_at <= ${NOW_MS}
        order by visible_at, seq
        limit $2
        for update skip locked
      ) picked
      where j.seq = picked.seq
      returning j.seq, j.id, j.body, j.body_json, j.attributes, j.deliveries, j.lease_token, j.visible_at, j.enqueued_at`,
    // $1 queue: ms until the next row becomes visible (a delay or a lease ends)
    nextVisible: `select min(visible_at) - ${NOW_MS} as due_in from ${s}.jobs where queue = $1`,
    // $1 seq, $2 token, $3 lease ms, $4 queue
    extend: `update ${s}.jobs set visible_at = ${NOW_MS} + $3::bigint
      where seq = $1 and lease_token = $2 and queue = $4 returning visible_at`,
    // $1 seqs, $2 tokens, $3 queue
    ack: `delete from ${s}.jobs j using unnest($1::bigint[], $2::bigint[]) as a(seq, token)
      where j.seq = a.seq and j.lease_token = a.token and j.queue = $3 returning j.seq, j.lease_token`,
    // $1 seq, $2 token, $3 delay ms, $4 queue, $5 channel: notifies waiting receivers, with a delay
    // too (they look again and learn the new due time, which may be sooner than what they wait for)
    release: `with u as (
        update ${s}.jobs set visible_at = ${NOW_MS} + $3::bigint, lease_token = null
        where seq = $1 and lease_token = $2 and queue = $4 returning 1
      ), n as (select pg_notify($5, $4) from u)
      select (select count(*) from u) as released, (select count(*) from n) as notified`,
    // $1 queue … $9 dead-lettered at, $10 seq, $11 token: written only while the lease is owned
    deadLetter: `insert into ${s}.dead (queue, id, body, body_json, attributes, reason, error, attempts, enqueued_at, dead_lettered_at)
      select $1, $2, $3, $12, $4, $5, $6, $7, $8, $9
      where exists (select 1 from ${s}.jobs where seq = $10 and lease_token = $11 and queue = $1)
      on conflict (queue, id) do update set body = excluded.body, body_json = excluded.body_json, attributes = excluded.attributes,
        reason = excluded.reason, error = excluded.error, attempts = excluded.attempts,
        enqueued_at = excluded.enqueued_at, dead_lettered_at = excluded.dead_lettered_at
      returning 1`,
    // $1 queue, $2 limit: oldest first, the kit's order (dead-lettered at, then job id; "C" compares bytes,
    // which is code-unit order for the ASCII ids bg makes)
    listDead: `select ${DEAD_COLUMNS} from ${s}.dead where queue = $1
      order by dead_lettered_at, id collate "C" limit $2`,
    // $1 queue, $2 limit, $3 and $4 the position of the last record of the previous page
    listDeadAfter: `select ${DEAD_COLUMNS} from ${s}.dead
      where queue = $1 and (dead_lettered_at, id collate "C") > ($3::bigint, $4::text collate "C")
      order by dead_lettered_at, id collate "C" limit $2`,
    getDead: `select ${DEAD_COLUMNS} from ${s}.dead where queue = $1 and id = $2`,
    // $1 queue, $2 id, $3 channel: one statement, so the live row and the removal commit together
    replay: `with d as (delete from ${s}.dead where queue = $1 and id = $2 returning id, body, body_json, attributes),
      i as (insert into ${s}.jobs (queue, id, body, body_json, attributes, visible_at, enqueued_at)
        select $1, id, body, body_json, attributes, ${NOW_MS}, ${NOW_MS} from d returning seq),
      n as (select pg_notify($3, $1) from i)
      select (select count(*) from i) as replayed, (select count(*) from n) as notified`,
    purgeAll: `with d as (delete from ${s}.dead where queue = $1 returning 1) select count(*) as n from d`,
    purgeIds: `with d as (delete from ${s}.dead where queue = $1 and id = any($2::text[]) returning 1) select count(*) as n from d`,
    stats: `select
        count(*) filter (where visible_at <= ${NOW_MS}) as ready,
        count(*) filter (where visible_at > ${NOW_MS} and lease_token is not null) as in_flight,
        count(*) filter (where visible_at > ${NOW_MS} and lease_token is null) as delayed,
        (select count(*) from ${s}.dead where queue = $1) as dead
      from ${s}.jobs where queue = $1`,
  };
}
