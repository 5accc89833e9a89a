import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from './access.js';

/** Characters of a session id: 24 of randomness, 22 of MAC. */
const SESSION_LENGTH = 46;

/**
 * CSRF protection bound to a session cookie: each browser gets a random session id (an
 * HttpOnly, SameSite=Strict cookie) and its forms carry `HMAC(secret, session id)`, where the
 * secret lives only in this dashboard's memory. A forged form from another site can neither
 * read the cookie nor compute the value.
 */
export class CsrfGuard {
  readonly #secret = randomBytes(32);

  /**
   * A new session id: 18 random bytes and a MAC of them under this dashboard's secret, so that
   * {@link issued} tells the ids this dashboard made from ones a client (or a cookie planted by
   * another site of the same host) chose itself.
   */
  newSession(): string {
    const random = randomBytes(18).toString('base64url');
    return random + this.#sessionMac(random);
  }

  /** True when `session` is an id {@link newSession} of this dashboard made. */
  issued(session: string | undefined): session is string {
    if (session === undefined || session.length !== SESSION_LENGTH) return false;
    const random = session.slice(0, 24);
    return /^[A-Za-z0-9_-]{24}$/.test(random) && sameSecret(this.#sessionMac(random), session.slice(24));
  }

  #sessionMac(random: string): string {
    return createHmac('sha256', this.#secret).update(`session:${random}`).digest('base64url').slice(0, 22);
  }

  /** The form value for a session. */
  tokenFor(session: string): string {
    return createHmac('sha256', this.#secret).update(session).digest('base64url');
  }

  /** True when `value` is the form value of `session`, a session this dashboard issued. */
  check(session: string | undefined, value: string | undefined): boolean {
    if (!this.issued(session) || !value) return false;
    return sameSecret(this.tokenFor(session), value);
  }
}
