import { createHash, timingSafeEqual } from 'node:crypto';

/** How a request presented the access token. */
export type TokenPresented = 'valid' | 'invalid' | 'none';

/** The facts {@link accessDecision} decides on. */
export interface AccessFacts {
  /** `req.socket.remoteAddress`. */
  readonly remoteAddress: string | undefined;
  /** The `Host` header. */
  readonly host: string | undefined;
  readonly tokenConfigured: boolean;
  readonly token: TokenPresented;
  /** An `auth(req)` hook decides instead of the loopback rule. */
  readonly hasAuthHook: boolean;
  /**
   * The request carries a proxy's forwarding header (`Forwarded`, `X-Forwarded-For`,
   * `X-Real-IP`): its loopback address is the proxy's, not the client's.
   */
  readonly proxied?: boolean;
}

/** Headers a reverse proxy adds naming the client it forwards for (lower case, as Node gives them). */
export const FORWARDING_HEADERS: readonly string[] = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/** Outcome of {@link accessDecision}: serve, ask the hook, or refuse with a status and a reason. */
export type AccessDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'ask-hook' }
  | { readonly kind: 'deny'; readonly status: 401 | 403; readonly message: string };

/** True for 127.0.0.0/8, `::1` and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** True when a `Host` header names the loopback interface (`localhost`, `127.x.x.x`, `[::1]`), any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * Who may use the dashboard. A configured token is always required. Without one, an `auth`
 * hook decides; without either, only loopback clients that also address a loopback host
 * are served (the `Host` check stops DNS-rebinding pages from reaching a local dashboard),
 * and never a request that came through a proxy (its loopback address is the proxy's).
 */
export function accessDecision(facts: AccessFacts): AccessDecision {
  if (facts.tokenConfigured) {
    if (facts.token === 'none')
      return { kind: 'deny', status: 401, message: 'this dashboard needs its access token: open it once with ?token=…' };
    if (facts.token === 'invalid') return { kind: 'deny', status: 401, message: 'wrong access token' };
    return facts.hasAuthHook ? { kind: 'ask-hook' } : { kind: 'allow' };
  }
  if (facts.hasAuthHook) return { kind: 'ask-hook' };
  // A reverse proxy on this machine connects from loopback and may send a loopback Host
  // (nginx's default for proxy_pass): the loopback rule would serve the whole network through it.
  if (facts.proxied)
    return {
      kind: 'deny',
      status: 403,
      message:
        'this dashboard has no access token, so it serves loopback clients only, and this request came through a proxy (a Forwarded / X-Forwarded-For / X-Real-IP header); give it a token (or an auth hook) to serve it behind a proxy',
    };
  if (!isLoopbackAddress(facts.remoteAddress))
    return {
      kind: 'deny',
      status: 403,
      message: 'this dashboard has no access token, so it serves loopback clients only; give it a token to allow others',
    };
  if (!isLoopbackHost(facts.host))
    return {
      kind: 'deny',
      status: 403,
      message: 'without an access token the dashboard answers only to localhost / 127.0.0.1 URLs',
    };
  return { kind: 'allow' };
}

/** Compares two secrets in constant time (through their SHA-256 digests, so lengths may differ). */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** Cookies of a request, by name (the first of duplicates wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (cookies.has(name)) continue;
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // a malformed cookie is ignored
    }
  }
  return cookies;
}
