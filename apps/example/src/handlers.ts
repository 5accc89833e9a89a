/**
 * What the workers do with each job. The "work" is simulated (tens to hundreds of ms), but
 * the shape is real: idempotent handlers, a permanent error for input that can never work,
 * and a long handler that gives up when its signal aborts (shutdown or lost lease).
 * @module
 */
import { existsSync } from 'node:fs';
import { type JobContext, permanentError, type Worker } from '@bg/core';
import { avatarThumbnail, welcomeEmail } from './jobs.js';
import type { LedgerWriter } from './ledger.js';

/** Options of {@link registerHandlers}. */
export interface HandlerOptions {
  /** This worker's name, written to the ledger. */
  readonly workerName: string;
  readonly ledger: LedgerWriter;
  /**
   * A file whose existence means "the thumbnailer supports HEIC images" — it stands for the
   * fix being deployed. Without it, `.heic` avatars fail with a permanent error (poison).
   */
  readonly heicFlagFile?: string;
  /** Random source for the simulated work durations. */
  readonly random?: () => number;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function work(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** True when the thumbnailer can decode this avatar (HEIC only once the fix is deployed). */
export function canDecode(avatarUrl: string, heicFlagFile: string | undefined): boolean {
  const heic = /\.heic$/i.test(new URL(avatarUrl).pathname);
  return !heic || (heicFlagFile !== undefined && existsSync(heicFlagFile));
}

/** Registers the handlers of every job type of this app on a worker. */
export function registerHandlers(worker: Worker, options: HandlerOptions): Worker {
  const { ledger, workerName: w } = options;
  const random = options.random ?? Math.random;
  const done = (ctx: JobContext, detail?: string): void => {
    ledger.write({
      e: 'done',
      w,
      id: ctx.jobId,
      type: ctx.jobType,
      attempt: ctx.attempt,
      v: ctx.enqueuedVersion,
      ...(detail !== undefined ? { detail } : {}),
      t: Date.now(),
    });
  };

  worker.handle(welcomeEmail, async (payload, ctx) => {
    // One short call to the mail provider: not worth interrupting, so a stopping worker
    // lets it finish within its grace period. A real mailer would pass ctx.jobId as the
    // provider's idempotency key, so a redelivered job does not send a second email.
    await work(20 + Math.floor(random() * 40));
    done(ctx, `locale=${payload.locale}`);
  });

  worker.handle(avatarThumbnail, async (payload, ctx) => {
    if (!canDecode(payload.avatarUrl, options.heicFlagFile)) {
      // Retrying cannot help: dead-letter at once, with the reason, and keep the rest flowing.
      throw permanentError(`cannot make a thumbnail of ${payload.avatarUrl}: HEIC images are not supported`);
    }
    // A longer job (download + resize) that stops when the worker stops or loses the lease:
    // the worker then hands the job back at once instead of waiting for the grace period.
    await work(100 + Math.floor(random() * 200), ctx.signal);
    done(ctx);
  });
  return worker;
}
