/**
 * The web service: `POST /signup` stores the background work in the queue and answers at
 * once; `GET /jobs/stats` shows the queue's counts. Nothing runs in this process's
 * background: a recycled or crashed web process loses nothing.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isBgError, type Queue } from '@bg/core';
import { avatarThumbnail, welcomeEmail } from './jobs.js';
import { type SignupRequest, signupRequestSchema } from './signup-request.js';

/** Largest request body accepted, bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/** The ids of the jobs stored for one signup. */
export interface SignupJobs {
  readonly welcomeEmail: string;
  readonly avatarThumbnail?: string;
}

/** What `POST /signup` answers (202). */
export interface SignupResponse {
  readonly userId: string;
  /** The ids of the jobs stored for this signup. */
  readonly jobs: SignupJobs;
}

/**
 * How a signup is stored: resolves once the user and its jobs are durable. The default enqueues
 * on the queue; `outboxSignupStore` (PostgreSQL) writes both in one transaction.
 */
export type SignupStore = (request: SignupRequest, userId: string) => Promise<SignupJobs>;

/** Options of {@link createApp}. */
export interface AppOptions {
  /** How signups are stored (default: {@link queueSignupStore} of the app's queue). */
  readonly signups?: SignupStore;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

/**
 * The default {@link SignupStore}: the user row would be written first, then the background
 * work is stored — not run — before the service answers: once enqueue resolved, the jobs
 * survive any crash of the web process. The idempotency keys let backends with deduplication
 * drop a second enqueue of the same work.
 */
export function queueSignupStore(queue: Queue): SignupStore {
  return async ({ email, locale, avatarUrl }, userId) => {
    // … the user row would be written here …
    const [email1, thumb] = await Promise.all([
      queue.enqueue(welcomeEmail, { userId, email, locale }, { idempotencyKey: `welcome:${userId}` }),
      avatarUrl === undefined
        ? undefined
        : queue.enqueue(avatarThumbnail, { userId, avatarUrl, size: 128 }, { idempotencyKey: `thumb:${userId}` }),
    ]);
    return { welcomeEmail: email1.id, ...(thumb ? { avatarThumbnail: thumb.id } : {}) };
  };
}

async function signup(store: SignupStore, req: IncomingMessage): Promise<SignupResponse> {
  const parsed = signupRequestSchema.safeParse(await readJson(req));
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const userId = randomUUID();
  return { userId, jobs: await store(parsed.data, userId) };
}

/**
 * The service's request handler, for `http.createServer`.
 *
 * @example
 * ```ts
 * const queue = createQueue({ adapter: await connect(process.env.BG_URL), queue: 'signups' })
 * http.createServer(createApp(queue)).listen(3000)
 * ```
 */
export function createApp(queue: Queue, options: AppOptions = {}): RequestListener {
  const store = options.signups ?? queueSignupStore(queue);
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handle = async (): Promise<void> => {
      if (req.method === 'POST' && path === '/signup') {
        send(res, 202, await signup(store, req));
      } else if (req.method === 'GET' && path === '/jobs/stats') {
        const stats = await queue.stats();
        send(res, 200, { queue: queue.name, backend: queue.adapter.name, ...stats });
      } else if (req.method === 'GET' && path === '/healthz') {
        send(res, 200, { ok: true });
      } else {
        throw new HttpError(404, `no route ${req.method ?? '?'} ${path}`);
      }
    };
    handle().catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) send(res, error.status, { error: error.message });
      else if (isBgError(error) && error.code === 'INVALID_PAYLOAD') send(res, 400, { error: error.message });
      else if (isBgError(error) && error.retryable) send(res, 503, { error: error.message, code: error.code });
      else send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  };
}
