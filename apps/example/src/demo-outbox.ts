/**
 * The demo's outbox scenario on PostgreSQL: a signup whose transaction rolls back after its
 * jobs were written, and the end-of-run look at the database (user rows, outbox, queue, dead
 * letters) that proves committed signups kept their jobs and the rolled-back one left nothing.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Capabilities } from '@bg/core';
import type { PostgresAdapter } from '@bg/postgres';
import { createOutbox, type OutboxStats, outboxStats } from '@bg/postgres/outbox';
import type { LedgerEntry } from './ledger.js';
import { storeSignup, USERS_TABLE } from './outbox-signups.js';

/** A `pg.Pool` (the type of the PostgreSQL adapter's pool). */
type Pool = PostgresAdapter['pool'];

/** The database of the demo's PostgreSQL backend. */
export interface OutboxDb {
  readonly pool: Pool;
  /** Schema of bg's tables. */
  readonly schema: string;
}

/** A signup that was rolled back. */
export interface RolledBackSignup {
  readonly userId: string;
  /** The ids its jobs had inside the transaction. */
  readonly jobIds: readonly string[];
  /** Why it rolled back. */
  readonly reason: string;
}

/**
 * Stores a signup exactly as the service does (user row + jobs through the outbox, one
 * transaction), but a step after the jobs were written fails — as a payment check or any
 * later write might — so the transaction rolls back.
 */
export async function rollBackASignup(db: OutboxDb, queue: string, capabilities: Capabilities): Promise<RolledBackSignup> {
  const outbox = createOutbox({ schema: db.schema, queue, capabilities });
  const userId = randomUUID();
  const reason = 'the payment provider declined the card';
  let jobIds: string[] = [];
  try {
    await storeSignup(
      db.pool,
      outbox,
      { email: 'declined@example.com', locale: 'en', avatarUrl: 'https://cdn.example.com/avatars/declined.png' },
      userId,
      {
        beforeCommit: async (jobs) => {
          jobIds = [jobs.welcomeEmail, ...(jobs.avatarThumbnail ? [jobs.avatarThumbnail] : [])];
          throw new Error(reason);
        },
      },
    );
  } catch (error) {
    if (!(error instanceof Error) || error.message !== reason) throw error;
    return { userId, jobIds, reason };
  }
  throw new Error('the signup meant to roll back was committed');
}

/** Backlog and lag of the demo database's outbox. */
export function demoOutboxStats(db: OutboxDb): Promise<OutboxStats> {
  return outboxStats(db.pool, db.schema);
}

async function count(db: OutboxDb, sql: string, values: unknown[]): Promise<number> {
  const r = await db.pool.query<{ n: string }>(sql, values);
  return Number(r.rows[0]?.n ?? 0);
}

/** How many of `userIds` have a row in the users table. */
export function usersStored(db: OutboxDb, userIds: readonly string[]): Promise<number> {
  return count(db, `select count(*) as n from ${USERS_TABLE} where id = any($1::uuid[])`, [userIds]);
}

/**
 * Traces of `jobIds` anywhere at the end: rows in the outbox, the queue and the dead letters,
 * and entries in the workers' ledgers. A rolled-back signup's jobs must have none.
 */
export async function jobTraces(db: OutboxDb, jobIds: readonly string[], ledger: readonly LedgerEntry[]): Promise<number> {
  const s = `"${db.schema}"`;
  let traces = 0;
  for (const table of ['outbox', 'jobs', 'dead']) {
    traces += await count(db, `select count(*) as n from ${s}.${table} where id = any($1::text[])`, [jobIds]);
  }
  const ids = new Set(jobIds);
  return traces + ledger.filter((e) => 'id' in e && ids.has(e.id)).length;
}
