import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  assertQueueName,
  BgError,
  type Capabilities,
  createQueue,
  type EnqueueOptions,
  type EnqueueResult,
  type JobDefinition,
  type JobInput,
  type OutgoingMessage,
} from '@bg/core';
import { assertOptionsObject, invalidOption } from '@bg/core/adapter';
import { POSTGRES_CAPABILITIES } from '../capabilities.js';
import { mapPgError } from '../map-error.js';
import { storedBody } from '../postgres-adapter.js';
import { ident } from '../schema-sql.js';
import { storedKey } from '../stored-key.js';

/** Anything that runs a parameterised query: a `pg.PoolClient` or `pg.Client` inside your transaction. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /** Schema of bg's tables (default `bg`; the outbox table is created by `migrate()` / `schemaSql()`). */
  readonly schema?: string;
  /** Queue the relay forwards to when `enqueue` names none (default `"default"`). */
  readonly queue?: string;
  /**
   * The manifest of the adapter the relay forwards to (`target.capabilities`), so that
   * `enqueue` checks the target's limits (payload size, delay hops, ordering, deduplication)
   * inside your transaction rather than at relay time. Default: PostgreSQL's.
   */
  readonly capabilities?: Capabilities;
}

/** Options of {@link Outbox.enqueue}: the job options plus the open transaction. */
export interface OutboxEnqueueOptions extends EnqueueOptions {
  /** The client of your open transaction (after `begin`): the row commits or rolls back with your data. */
  readonly tx: Queryable;
  /** Target queue (default: the outbox's `queue`). */
  readonly queue?: string;
}

/** The transactional outbox: jobs written in the application's own transaction, relayed later. */
export interface Outbox {
  /** The schema of its table. */
  readonly schema: string;
  /**
   * Validates the payload (as `createQueue().enqueue` does) and inserts the envelope into the
   * outbox table through `options.tx`. Nothing reaches a queue until the transaction commits
   * and a relay ({@link startRelay}) forwards it; a rollback leaves no job. A job with an
   * `orderingKey` takes a lock on its key and queue until the transaction ends, so transactions
   * writing one key take turns and the relay forwards their jobs in commit order.
   */
  enqueue<J extends JobDefinition>(job: J, payload: JobInput<J>, options: OutboxEnqueueOptions): Promise<EnqueueResult>;
}

/**
 * Creates the transactional outbox. Jobs are validated and encoded exactly as the producer of
 * `@bg/core` does (same envelope, id, delays, idempotency key), then stored in `<schema>.outbox`
 * by your transaction. A relay forwards them to any adapter.
 *
 * @example
 * ```ts
 * const outbox = createOutbox({ capabilities: redis.capabilities })
 * const tx = await pool.connect()
 * await tx.query('begin')
 * await tx.query('insert into users (id, email) values ($1, $2)', [id, email])
 * await outbox.enqueue(sendWelcome, { userId: id, locale: 'de' }, { tx })
 * await tx.query('commit')
 * tx.release()
 * ```
 */
export function createOutbox(options: OutboxOptions = {}): Outbox {
  assertOptionsObject('createOutbox', options);
  const schema = options.schema ?? 'bg';
  const table = `${ident(schema)}.outbox`;
  if (options.queue !== undefined) assertQueueName(options.queue);
  const capabilities: Capabilities = Object.freeze({ ...checkedCapabilities(options.capabilities) });
  const lockKeys = orderingLockSql(schema);
  const insert = `insert into ${table} (queue, id, body, body_json, attributes, delay_ms, ordering_key, dedup_key)
    select $1, * from unnest($2::text[], $3::text[], $4::boolean[], $5::text[], $6::bigint[], $7::text[], $8::text[])`;

  /** An adapter whose only real call is `send`, writing into the outbox through one transaction. */
  function outboxAdapter(tx: Queryable): Adapter {
    const unsupported = (): never => {
      throw new BgError('UNSUPPORTED', 'the outbox only stores jobs; the relay forwards them');
    };
    return {
      name: 'postgres-outbox',
      contractVersion: ADAPTER_CONTRACT_VERSION,
      capabilities,
      ensureQueue: async () => {},
      async send(queue: string, messages: readonly OutgoingMessage[]) {
        const bodies = messages.map((m) => storedBody(m.body));
        const orderingKeys = messages.flatMap((m) => (m.orderingKey === undefined ? [] : [storedKey(m.orderingKey)]));
        // Transactions writing one ordering key take turns (until commit): their rows' seq
        // order is then their commit order, the order the relay sends them in.
        if (orderingKeys.length > 0) {
          await tx.query(lockKeys, [queue, orderingKeys]).catch((error: unknown) => {
            throw mapPgError(error, 'outbox.enqueue');
          });
        }
        await tx
          .query(insert, [
            queue,
            messages.map((m) => m.id),
            bodies.map((b) => b[0]),
            bodies.map((b) => b[1]),
            messages.map((m) => (m.attributes ? JSON.stringify(m.attributes) : null)),
            messages.map((m) => m.delayMs ?? 0),
            // Keys as text keeps them one to one (the relay reads them back with loadedKey).
            messages.map((m) => (m.orderingKey === undefined ? null : storedKey(m.orderingKey))),
            messages.map((m) => (m.deduplicationKey === undefined ? null : storedKey(m.deduplicationKey))),
          ])
          .catch((error: unknown) => {
            // PostgreSQL's errors as the adapter maps them (QUEUE_NOT_FOUND for a schema never migrated …).
            throw mapPgError(error, 'outbox.enqueue');
          });
        return messages.map((m) => ({ id: m.id, duplicate: false }));
      },
      receive: unsupported,
      extend: unsupported,
      ack: unsupported,
      release: unsupported,
      deadLetter: unsupported,
      listDeadLetters: unsupported,
      getDeadLetter: unsupported,
      replayDeadLetter: unsupported,
      purgeDeadLetters: unsupported,
      stats: unsupported,
      close: async () => {},
    };
  }

  return {
    schema,
    enqueue(job, payload, { tx, queue, ...enqueueOptions }) {
      if (tx === undefined || typeof tx.query !== 'function') {
        return Promise.reject(
          new BgError('INVALID_ARGUMENT', 'outbox.enqueue needs { tx }: the client of your open transaction', {
            retryable: false,
          }),
        );
      }
      const producer = createQueue({ adapter: outboxAdapter(tx), queue: queue ?? options.queue ?? 'default' });
      return producer.enqueue(job, payload, enqueueOptions);
    },
  };
}

/** The capability fields `enqueue` reads, with their kinds. */
const CAPABILITY_FIELDS = [
  ['maxPayloadBytes', 'number'],
  ['maxBatchSize', 'number'],
  ['maxDelayMs', 'number'],
  ['ordering', 'boolean'],
  ['deduplication', 'boolean'],
] as const;

/** `capabilities` (PostgreSQL's when undefined) when it is a manifest; else `INVALID_ARGUMENT`. */
function checkedCapabilities(capabilities: unknown): Capabilities {
  if (capabilities === undefined) return POSTGRES_CAPABILITIES;
  const ok =
    typeof capabilities === 'object' &&
    capabilities !== null &&
    CAPABILITY_FIELDS.every(([field, kind]) => typeof (capabilities as Record<string, unknown>)[field] === kind);
  if (!ok) {
    throw invalidOption('createOutbox', 'capabilities', "an adapter's capability manifest (target.capabilities)", capabilities);
  }
  return capabilities as Capabilities;
}

/**
 * `$1` queue, `$2` ordering keys: takes a transaction-level advisory lock per distinct key (in
 * key order, so two batches never deadlock each other), held until the transaction ends.
 */
function orderingLockSql(schema: string): string {
  return `select count(pg_advisory_xact_lock(hashtext($1 || ':${schema}:bg-outbox'), hashtext(k)))
    from (select k from unnest($2::text[]) as k group by k order by k collate "C") keys`;
}
