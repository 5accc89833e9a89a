import { ident, NOW_MS } from './schema-sql.js';

export { NOW_MS } from './schema-sql.js';

/** The columns of a dead letter (a `DeadRow`). */
const DEAD_COLUMNS = 'id, body, body_json, attributes, reason, error, attempts, enqueued_at, dead_lettered_at';

/** The SQL statements of the adapter for one schema (parameters in comments). */
export interface Statements {
  readonly schemaVersion: string;
  readonly ensureQueue: string;
  readonly queueExists: string;
  readonly listQueues: string;
  readonly deleteQueueRow: string;
  readonly deleteQueueContents: string;
  readonly send: string;
  readonly sendKeyed: string;
  readonly sweepDedup: string;
  readonly receive: string;
  readonly nextVisible: string;
  readonly extend: string;
  readonly ack: string;
  readonly ackWaiting: string;
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
    // $1 queue: the first statement of deleteQueue's transaction. Deleting the queue's row waits
    // for every statement that holds it \`for key share\` (a send, a replay, a dead letter: they
    // store rows of the queue only while it exists) and makes later ones find no queue.
    deleteQueueRow: `delete from ${s}.queues where name = $1 returning 1`,
    // $1 queue: the second statement, with a snapshot taken after the row above was locked, so
    // that it sees the rows of the writers it waited for (one statement would not: its snapshot
    // predates the wait, and their rows stayed behind, to reappear in a queue created later with
    // the same name). Its deduplication keys go too, locked in key order as keyed sends lock them.
    deleteQueueContents: `with j as (delete from ${s}.jobs where queue = $1 returning 1),
      d as (delete from ${s}.dead where queue = $1 returning 1),
      k as (delete from ${s}.dedup where (queue, key) in (
        select queue, key from ${s}.dedup where queue = $1 order by key collate "C" for update) returning 1)
      select (select count(*) from j) + (select count(*) from d) > 0 as stored`,
    // $1 queue, $2 ids, $3 bodies, $4 attributes, $5 delays, $6 channel, $7 body_json flags: a batch
    // without keys. Stored only while the queue exists (its row locked against a concurrent
    // deleteQueue, which then waits and deletes these rows in its second statement): no row back when the queue is
    // gone (deleted, maybe by another process since this one checked it), one row when stored.
    send: `with ins as (
        insert into ${s}.jobs (queue, id, body, body_json, attributes, visible_at, enqueued_at)
        select $1, id, body, body_json, attributes, ${NOW_MS} + delay_ms, ${NOW_MS}
          from unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $7::boolean[])
          with ordinality as t(id, body, attributes, delay_ms, body_json, n)
          where exists (select 1 from ${s}.queues where name = $1 for key share)
          order by n
        returning 1
      )
      select pg_notify($6, $1) from ins limit 1`,
    // $1 queue, $2 ids, $3 bodies, $4 attributes, $5 delays, $6 dedup keys (null: none), $7 channel,
    // $8 body_json flags, $9 deduplication window ms: a batch with keys, in one statement (so a
    // send that fails reserves nothing). The first entry of each key claims it in dedup: a new
    // key, or one whose window has ended, takes the entry's id (claim = this transaction);
    // a live key keeps its id and claim, and still comes back (an update that changes nothing),
    // so the holder's id is known even when another transaction stored it after this
    // statement began. Keys are claimed in key order, so two batches with the same keys in any
    // order never deadlock. Only entries that claimed their key (and those without a key) are
    // stored, in send order, and only while the queue exists (as \`send\`). One row per distinct
    // key: present (the queue exists), key, id (the holder), reserved.
    sendKeyed: `with q as (select 1 from ${s}.queues where name = $1 for key share),
      input as materialized (
        select * from unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $8::boolean[])
          with ordinality as t(id, body, attributes, delay_ms, dedup_key, body_json, n)
          where exists (select 1 from q)
      ), firsts as materialized (
        select distinct on (dedup_key) dedup_key, id, n from input where dedup_key is not null order by dedup_key, n
      ), claimed as (
        insert into ${s}.dedup as d (queue, key, id, expires_at, claim)
        select $1, dedup_key, id, ${NOW_MS} + $9::bigint, txid_current() from firsts order by dedup_key collate "C"
        on conflict (queue, key) do update set
          id = case when d.expires_at <= ${NOW_MS} then excluded.id else d.id end,
          claim = case when d.expires_at <= ${NOW_MS} then excluded.claim else d.claim end,
          expires_at = case when d.expires_at <= ${NOW_MS} then excluded.expires_at else d.expires_at end
        returning d.key, d.id, d.claim = txid_current() as reserved
      ), ins as (
        insert into ${s}.jobs (queue, id, body, body_json, attributes, visible_at, enqueued_at)
        select $1, id, body, body_json, attributes, ${NOW_MS} + delay_ms, ${NOW_MS} from input
          where dedup_key is null or n in (select f.n from firsts f join claimed c on c.key = f.dedup_key where c.reserved)
          order by n
        returning 1
      ), notified as (select pg_notify($7, $1) from ins limit 1)
      select exists (select 1 from q) as present, c.key, c.id, c.reserved from (select count(*) from notified) n left join claimed c on true`,
    // $1 limit: deletes up to $1 expired keys of any queue, skipping keys a send holds (never waits)
    sweepDedup: `with gone as (
        delete from ${s}.dedup d using (
          select queue, key from ${s}.dedup where expires_at <= ${NOW_MS}
          order by expires_at limit $1 for update skip locked
        ) x
        where d.queue = x.queue and d.key = x.key and d.expires_at <= ${NOW_MS}
        returning 1
      )
      select count(*) as n from gone`,
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
    // $1 queue: ms until the next row becomes visible (a delay or a lease ends), and whether the
    // queue still exists (deleted by another process: this one's receives must say so)
    nextVisible: `select min(visible_at) - ${NOW_MS} as due_in,
      exists (select 1 from ${s}.queues where name = $1) as present
      from ${s}.jobs where queue = $1`,
    // $1 seq, $2 token, $3 lease ms, $4 queue
    extend: `update ${s}.jobs set visible_at = ${NOW_MS} + $3::bigint
      where seq = $1 and lease_token = $2 and queue = $4 returning visible_at`,
    // $1 seqs, $2 tokens, $3 queue: skips rows another transaction holds locked
    ack: `delete from ${s}.jobs j using (
        select x.seq from ${s}.jobs x join unnest($1::bigint[], $2::bigint[]) as a(seq, token)
          on x.seq = a.seq and x.lease_token = a.token
        where x.queue = $3
        for update of x skip locked
      ) k
      where j.seq = k.seq returning j.seq, j.lease_token`,
    // $1 seqs, $2 tokens, $3 queue: waits for locked rows
    ackWaiting: `delete from ${s}.jobs j using unnest($1::bigint[], $2::bigint[]) as a(seq, token)
      where j.seq = a.seq and j.lease_token = a.token and j.queue = $3 returning j.seq, j.lease_token`,
    // $1 seq, $2 token, $3 delay ms, $4 queue, $5 channel: notifies waiting receivers, with a delay
    // too (they look again and learn the new due time, which may be sooner than what they wait for)
    release: `with u as (
        update ${s}.jobs set visible_at = ${NOW_MS} + $3::bigint, lease_token = null
        where seq = $1 and lease_token = $2 and queue = $4 returning 1
      ), n as (select pg_notify($5, $4) from u)
      select (select count(*) from u) as released, (select count(*) from n) as notified`,
    // $1 queue … $9 dead-lettered at, $10 seq, $11 token: written only while the lease is owned and
    // the queue exists (its row held against a concurrent deleteQueue, as send holds it)
    deadLetter: `insert into ${s}.dead (queue, id, body, body_json, attributes, reason, error, attempts, enqueued_at, dead_lettered_at)
      select $1, $2, $3, $12, $4, $5, $6, $7, $8, $9
      where exists (select 1 from ${s}.queues where name = $1 for key share)
        and exists (select 1 from ${s}.jobs where seq = $10 and lease_token = $11 and queue = $1)
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
    // $1 queue, $2 id, $3 channel: one statement, so the live row and the removal commit together;
    // the queue's row held first (as send holds it), so a concurrent deleteQueue removes the live row
    replay: `with q as (select 1 from ${s}.queues where name = $1 for key share),
      d as (delete from ${s}.dead where queue = $1 and id = $2 and exists (select 1 from q) returning id, body, body_json, attributes),
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
