import { isSecretName } from '@bg/core';

/** Default ports of the schemes whose URLs may leave them out. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  'redis:': '6379',
  'rediss:': '6379',
  'postgres:': '5432',
  'postgresql:': '5432',
};

/** Spellings of the local machine. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1', '0.0.0.0']);

/** Schemes that name the same backend. */
const SCHEME_ALIASES: Readonly<Record<string, string>> = { 'postgresql:': 'postgres:', 'rediss:': 'redis:' };

/**
 * What a backend URL points at, with the spellings that change nothing made equal: the scheme's
 * aliases, `localhost` and `127.0.0.1`, a default port left out, Redis database `/0` left out,
 * user names and secrets (another user on the same server is the same server), the order of
 * query parameters. `undefined` for text that is not a URL.
 */
export function backendIdentity(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const scheme = SCHEME_ALIASES[u.protocol] ?? u.protocol;
  const hostname = u.hostname.toLowerCase();
  const host = LOOPBACK.has(hostname) ? 'loopback' : hostname;
  const port = u.port || DEFAULT_PORTS[u.protocol] || '';
  const path = scheme === 'redis:' ? `/${Number(u.pathname.slice(1) || '0')}` : u.pathname.replace(/\/+$/, '');
  const params = [...u.searchParams]
    .filter(([name]) => !isSecretName(name))
    .map(([name, value]) => `${name}=${value}`)
    .sort();
  return `${scheme}//${host}:${port}${path}?${params.join('&')}`;
}

/** True when two backend URLs point at the same backend (see {@link backendIdentity}). */
export function sameBackend(a: string, b: string): boolean {
  if (a === b) return true;
  const left = backendIdentity(a);
  return left !== undefined && left === backendIdentity(b);
}
