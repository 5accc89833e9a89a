import { ident, NOW_MS } from '../schema-sql.js';

/** The statements of one relay, for one schema. */
export interface RelaySql {
  /**
   * `$1` limit: the first rows of the outbox (by `seq`) that are keyless or the first waiting row
   * of their ordering key and queue, locked `FOR UPDATE SKIP LOCKED`. Holding the first row of a
   * key holds the whole key: no other relay takes a later row of it while that row exists.
   */
  readonly takeHeads: string;
  /**
   * `$1` queues, `$2` ordering keys, `$3` seqs of the heads taken, `$4` limit: the rows of those
   * keys after their heads, in order, locked `FOR UPDATE` (the keys are this relay's, so nobody
   * else locks them), so a key's backlog goes in one round, not one row per round.
   */
  readonly takeFollowers: string;
  /** `$1` seqs: deletes the rows the target stored. */
  readonly remove: string;
  /** `$1` seqs, `$2` error codes, `$3` error texts: moves the rows to `outbox_failed` in one statement. */
  readonly setAside: string;
}

const COLUMNS = 'seq, queue, id, body, body_json, attributes, delay_ms, ordering_key, dedup_key, created_at';

/** The relay's statements on `<schema>.outbox`. */
export function relaySql(schema: string): RelaySql {
  const table = `${ident(schema)}.outbox`;
  return {
    takeHeads: `select ${COLUMNS}, ${NOW_MS} as now
    from ${table} o
    where o.ordering_key is null
      or not exists (select 1 from ${table} e where e.queue = o.queue and e.ordering_key = o.ordering_key and e.seq < o.seq)
    order by seq
    limit $1
    for update skip locked`,
    takeFollowers: `select ${COLUMNS.split(', ')
      .map((c) => `o.${c}`)
      .join(', ')}, ${NOW_MS} as now
    from ${table} o
    join unnest($1::text[], $2::text[], $3::bigint[]) as h(queue, ordering_key, seq)
      on o.queue = h.queue and o.ordering_key = h.ordering_key and o.seq > h.seq
    order by o.seq
    limit $4
    for update of o`,
    remove: `delete from ${table} where seq = any($1::bigint[])`,
    setAside: `with refused as (
      select * from unnest($1::bigint[], $2::text[], $3::text[]) as r(seq, code, error)
    ), moved as (
      delete from ${table} o using refused r where o.seq = r.seq
      returning o.seq, o.queue, o.id, o.body, o.body_json, o.attributes, o.delay_ms, o.ordering_key, o.dedup_key,
        o.created_at, r.code, r.error
    )
    insert into ${ident(schema)}.outbox_failed
      (${COLUMNS}, error_code, error, failed_at)
    select ${COLUMNS}, code, error, ${NOW_MS}
    from moved
    on conflict (seq) do nothing`,
  };
}
