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

/** What the query parameters of a scheme's URLs mean for which store is used. */
interface SchemeParameters {
  /** Parameters whose value there is the adapter's default: giving it changes nothing. */
  readonly defaults?: Readonly<Record<string, string>>;
  /** Booleans (`true`/`false`/`1`/`0`), compared by value. */
  readonly booleans?: readonly string[];
  /** Parameters that tune the connection or the client, never which store is used. */
  readonly neutral?: readonly string[];
}

/**
 * The parameters of bg's own adapters (each adapter's README lists them). A third-party
 * scheme keeps every parameter: what they mean is not known here.
 */
const SCHEME_PARAMETERS: Readonly<Record<string, SchemeParameters>> = {
  'redis:': { defaults: { prefix: 'bg' }, neutral: ['family'] },
  'postgres:': {
    defaults: { schema: 'bg' },
    neutral: ['poolSize', 'connectTimeoutMs', 'deduplicationWindowMs', 'sslmode', 'application_name'],
  },
  'sqs:': {
    defaults: { deadLetterSuffix: '-dlq', fifo: 'false' },
    booleans: ['fifo'],
    neutral: ['astralText', 'maxMessageBytes', 'redriveMaxReceiveCount'],
  },
  'pubsub:': {
    defaults: { prefix: 'bg-' },
    neutral: ['timeoutMs', 'pollIntervalMs', 'exactlyOnce', 'maxDeliveryAttempts'],
  },
  'azure-queue:': { neutral: ['ttl'] },
};

function booleanValue(value: string): string {
  if (value === '1') return 'true';
  if (value === '0') return 'false';
  return value;
}

/**
 * What a backend URL points at, with the spellings that change nothing made equal: the scheme's
 * aliases, `localhost` and `127.0.0.1`, a default port left out, Redis database `/0` left out,
 * user names and secrets (another user on the same server is the same server), the order of
 * query parameters, and for bg's own adapters a parameter given its default value
 * (`?prefix=bg` on Redis) or one that only tunes the connection (`?family=4`). `memory:`,
 * `memory:default` and `memory://default` are one store. `undefined` for text that is not a URL.
 *
 * Equal identities are certainly one backend; different ones may still be one (a host name
 * this machine resolves to itself): `moveJobs` checks before it deletes anything.
 */
export function backendIdentity(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const scheme = SCHEME_ALIASES[u.protocol] ?? u.protocol;
  if (scheme === 'memory:' && u.search === '') {
    // As @bg/memory names its stores: memory:, memory:name, memory://name.
    const path = u.host === '' ? u.pathname.replace(/^\/+/, '') : u.pathname.replace(/^\/$/, '');
    return `memory:${u.hostname || path || 'default'}`;
  }
  const hostname = u.hostname.toLowerCase();
  const host = LOOPBACK.has(hostname) ? 'loopback' : hostname;
  const port = u.port || DEFAULT_PORTS[u.protocol] || '';
  const path = scheme === 'redis:' ? `/${Number(u.pathname.slice(1) || '0')}` : u.pathname.replace(/\/+$/, '');
  const known = SCHEME_PARAMETERS[scheme] ?? {};
  const params = [...u.searchParams]
    .filter(([name]) => !isSecretName(name))
    .map(([name, value]): [string, string] => [name, known.booleans?.includes(name) ? booleanValue(value) : value])
    .filter(
      ([name, value]) =>
        !known.neutral?.includes(name) &&
        !(known.defaults && Object.hasOwn(known.defaults, name) && known.defaults[name] === value),
    )
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
