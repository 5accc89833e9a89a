/**
 * The demo's web traffic: signups sent to the service at a steady rate, a few of them with
 * an avatar the thumbnailer cannot decode yet (the poison).
 * @module
 */
import type { SignupResponse } from './http-app.js';

/** One signup sent by {@link sendSignups}. */
export interface SignupResult {
  readonly index: number;
  /** True when its avatar is a `.heic` image (poison until the fix is deployed). */
  readonly poison: boolean;
  /** The service's answer, when it accepted the signup. */
  readonly response?: SignupResponse;
  /** Why the signup failed after its retries. */
  readonly error?: string;
  /** Time from request to answer, ms. */
  readonly latencyMs: number;
}

/** Options of {@link sendSignups}. */
export interface TrafficOptions {
  /** `http://127.0.0.1:<port>` of the service. */
  readonly baseUrl: string;
  readonly count: number;
  /** Requests started per second. */
  readonly ratePerSecond: number;
  /** Requests in flight at most (default 32). */
  readonly maxInFlight?: number;
}

/** Traffic under way. */
export interface Traffic {
  /** Resolves with every result (in index order) once all signups were answered or failed. */
  readonly done: Promise<SignupResult[]>;
  /** Signups answered so far. */
  answered(): number;
  /** Resolves once `n` signups were answered. */
  whenAnswered(n: number): Promise<void>;
}

/** True for the signups whose avatar is poison: about 1 in 100, and at least one. */
export function isPoisonSignup(index: number, count: number): boolean {
  return count < 40 ? index === Math.floor(count / 2) : index % 100 === 37;
}

/** Two signups in three come with an avatar (every poison one does). */
export function hasAvatar(index: number, count: number): boolean {
  return isPoisonSignup(index, count) || index % 3 !== 2;
}

const LOCALES = ['en', 'de', 'fr', 'ja', 'pt-BR'];

async function post(baseUrl: string, index: number, count: number): Promise<SignupResponse> {
  const avatar = hasAvatar(index, count)
    ? { avatarUrl: `https://cdn.example.com/avatars/${index}.${isPoisonSignup(index, count) ? 'heic' : 'png'}` }
    : {};
  const body = JSON.stringify({ email: `user${index}@example.com`, locale: LOCALES[index % LOCALES.length], ...avatar });
  let lastError = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(`${baseUrl}/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      if (res.status === 202) return JSON.parse(text) as SignupResponse;
      lastError = `HTTP ${res.status}: ${text}`;
      if (res.status < 500) break;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
  throw new Error(lastError);
}

/** Starts sending `count` signups at `ratePerSecond`. */
export function sendSignups(options: TrafficOptions): Traffic {
  const { baseUrl, count, ratePerSecond } = options;
  const maxInFlight = options.maxInFlight ?? 32;
  const results: SignupResult[] = [];
  let answered = 0;
  let inFlight = 0;
  const waiters: { n: number; wake: () => void }[] = [];
  let slot: (() => void) | undefined;

  const onAnswer = (result: SignupResult): void => {
    results.push(result);
    answered++;
    inFlight--;
    slot?.();
    for (const waiter of waiters.filter((w) => answered >= w.n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.wake();
    }
  };

  const done = (async () => {
    const started = Date.now();
    const pending: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const due = started + (index * 1_000) / ratePerSecond;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (inFlight >= maxInFlight) {
        await new Promise<void>((resolve) => {
          slot = resolve;
        });
        slot = undefined;
      }
      inFlight++;
      const sentAt = Date.now();
      const poison = isPoisonSignup(index, count);
      pending.push(
        post(baseUrl, index, count).then(
          (response) => onAnswer({ index, poison, response, latencyMs: Date.now() - sentAt }),
          (error: unknown) => onAnswer({ index, poison, error: String(error), latencyMs: Date.now() - sentAt }),
        ),
      );
    }
    await Promise.all(pending);
    return results.sort((a, b) => a.index - b.index);
  })();

  return {
    done,
    answered: () => answered,
    whenAnswered(n) {
      if (answered >= n) return Promise.resolve();
      return new Promise((wake) => {
        waiters.push({ n, wake });
      });
    },
  };
}
