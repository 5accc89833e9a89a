import { BgError } from '../errors.js';
import { tlsFailureCode } from './tls-errors.js';

/**
 * The error codes (Node `code`, undici and SDK codes) meaning "the network failed, trying
 * again later may work": refused, reset or aborted connections, timeouts, DNS failures,
 * unreachable hosts and networks. One list for every adapter.
 */
export const TRANSIENT_NETWORK_CODES: readonly string[] = Object.freeze([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'REQUEST_SEND_ERROR',
]);

const CODES: ReadonlySet<string> = new Set(TRANSIENT_NETWORK_CODES);
const IN_TEXT = new RegExp(`\\b(${TRANSIENT_NETWORK_CODES.join('|')})\\b`);
const RESET_TEXT = /socket hang up|other side closed/i;

/**
 * The transient network code behind `error`, or undefined: its `code` (or `errno` name), its
 * `cause` chain and an `AggregateError`'s `errors` (to depth 5), then a code or "socket hang
 * up" (→ `ECONNRESET`) in a message. Pure; never throws.
 */
export function transientNetworkCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
  if (typeof e.code === 'string' && CODES.has(e.code)) return e.code;
  const fromCause = transientNetworkCode(e.cause, depth + 1);
  if (fromCause !== undefined) return fromCause;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = transientNetworkCode(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  if (typeof e.message === 'string') {
    const match = IN_TEXT.exec(e.message);
    if (match) return match[1];
    if (RESET_TEXT.test(e.message)) return 'ECONNRESET';
  }
  return undefined;
}

/**
 * `UNREACHABLE` (retryable) when `error` is a transient network failure (see
 * {@link transientNetworkCode}), with `details.networkCode`; `UNREACHABLE` not retryable, with
 * `details.tls`, when it is a TLS handshake that cannot succeed (see {@link tlsFailureCode}: a
 * wrong protocol or certificate is a configuration error); undefined otherwise, so a
 * `map-error.ts` goes on with its backend's own codes. `backend` names it for the reader
 * (`"SQS"`), `what` is the call (`"ReceiveMessage"`).
 */
export function networkError(backend: string, what: string, error: unknown): BgError | undefined {
  const text = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const tls = tlsFailureCode(error);
  if (tls !== undefined) {
    return new BgError(
      'UNREACHABLE',
      `${backend} ${what} failed: the TLS handshake failed (${tls}), check the endpoint's protocol (http or https, tls or not) and certificate: ${text}`,
      { retryable: false, cause: error, details: { tls } },
    );
  }
  const code = transientNetworkCode(error);
  if (code === undefined) return undefined;
  return new BgError('UNREACHABLE', `${backend} ${what} failed: the network failed (${code}): ${text}`, {
    retryable: true,
    cause: error,
    details: { networkCode: code },
  });
}
