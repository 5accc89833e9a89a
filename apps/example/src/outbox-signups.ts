/**
 * Signups through the transactional outbox (PostgreSQL): the user row and the signup's jobs
 * are written in ONE transaction, so they commit together or not at all. A relay process
 * (`src/relay.ts`) forwards the committed jobs to the queue afterwards.
 * @module
 */
import type { Capabilities } from '@bg/core';
import type { PostgresAdapter } from '@bg/postgres';
import { createOutbox, type Outbox } from '@bg/postgres/outbox';
import type { SignupJobs, SignupStore } from './http-app.js';
import { avatarThumbnail, welcomeEmail } from './jobs.js';
import type { SignupRequest } from './signup-request.js';

/** A `pg.Pool` (the type of the PostgreSQL adapter's pool). */
type Pool = PostgresAdapter['pool'];

/** The application's own table: one row per signed-up user. */
export const USERS_TABLE = 'demo_users';

/** Creates the users table if it is missing (idempotent). */
export async function ensureUsersTable(pool: Pool): Promise<void> {
  await pool.query(
    `create table if not exists ${USERS_TABLE} (
      id uuid primary key,
      email text not null,
      locale text not null,
      created_at timestamptz not null default now()
    )`,
  );
}

/** Options of {@link storeSignup}. */
export interface StoreSignupOptions {
  /** Runs inside the transaction after the row and the jobs were written, before the commit: a throw rolls everything back. */
  readonly beforeCommit?: (jobs: SignupJobs) => Promise<void>;
}

/**
 * Writes the user row and enqueues the signup's jobs through the outbox in one transaction on
 * one client of `pool`, then commits. On any error it rolls back: no user, no job.
 */
export async function storeSignup(
  pool: Pool,
  outbox: Outbox,
  request: SignupRequest,
  userId: string,
  options: StoreSignupOptions = {},
): Promise<SignupJobs> {
  const { email, locale, avatarUrl } = request;
  const tx = await pool.connect();
  let broken = false;
  try {
    await tx.query('begin');
    await tx.query(`insert into ${USERS_TABLE} (id, email, locale) values ($1, $2, $3)`, [userId, email, locale]);
    // Same transaction: these rows commit with the user, or roll back with it.
    const email1 = await outbox.enqueue(welcomeEmail, { userId, email, locale }, { tx, idempotencyKey: `welcome:${userId}` });
    const thumb =
      avatarUrl === undefined
        ? undefined
        : await outbox.enqueue(avatarThumbnail, { userId, avatarUrl, size: 128 }, { tx, idempotencyKey: `thumb:${userId}` });
    const jobs: SignupJobs = { welcomeEmail: email1.id, ...(thumb ? { avatarThumbnail: thumb.id } : {}) };
    await options.beforeCommit?.(jobs);
    await tx.query('commit');
    return jobs;
  } catch (error) {
    await tx.query('rollback').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    tx.release(broken);
  }
}

/** A {@link SignupStore} for the web service: each signup is one transaction through the outbox. */
export function outboxSignupStore(
  pool: Pool,
  options: { readonly schema: string; readonly queue: string; readonly capabilities: Capabilities },
): SignupStore {
  const outbox = createOutbox(options);
  return (request, userId) => storeSignup(pool, outbox, request, userId);
}
