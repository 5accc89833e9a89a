import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from './access.js';

/**
 * CSRF protection bound to a session cookie: each browser gets a random session id (an
 * HttpOnly, SameSite=Strict cookie) and its forms carry `HMAC(secret, session id)`, where the
 * secret lives only in this dashboard's memory. A forged form from another site can neither
 * read the cookie nor compute the value.
 */
export class CsrfGuard {
  readonly #secret = randomBytes(32);

  /** A new random session id. */
  newSession(): string {
    return randomBytes(18).toString('base64url');
  }

  /** The form value for a session. */
  tokenFor(session: string): string {
    return createHmac('sha256', this.#secret).update(session).digest('base64url');
  }

  /** True when `value` is the form value of `session`. */
  check(session: string | undefined, value: string | undefined): boolean {
    if (!session || !value) return false;
    return sameSecret(this.tokenFor(session), value);
  }
}
