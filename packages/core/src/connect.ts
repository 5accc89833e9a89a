import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Adapter } from './adapter.js';
import {
  type AdapterSource,
  describeSource,
  registeredAdapter,
  registeredSchemes,
  type UrlAdapterModule,
} from './adapter-registry.js';
import { BgError } from './errors.js';
import { bounded, checkOptionalFunction, checkOptionsObject, describeValue } from './option-checks.js';
import { assertAdapter } from './queue.js';
import { redactUrl } from './redact.js';

export type { UrlAdapterModule } from './adapter-registry.js';

/** URL schemes {@link connect} knows, and the adapter package each one loads. */
export const ADAPTER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  'memory:': '@bg/memory',
  'redis:': '@bg/redis',
  'rediss:': '@bg/redis',
  'sqs:': '@bg/sqs',
  'azure-queue:': '@bg/azure-queue',
  'pubsub:': '@bg/pubsub',
  'postgres:': '@bg/postgres',
  'postgresql:': '@bg/postgres',
});

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Loads a package by name (default: dynamic `import`). For bundlers and tests; also used for schemes registered by package name. */
  readonly load?: (packageName: string) => Promise<unknown>;
}

/**
 * Connects to a backend by URL, loading the adapter package its scheme names, so the same
 * application code runs on any backend by changing one environment variable.
 *
 * | URL | package |
 * |---|---|
 * | `memory:` or `memory://name` | `@bg/memory` (in-process; one store per name) |
 * | `redis://[:password@]host:port[/db][?prefix=bg]` (`rediss://` for TLS) | `@bg/redis` |
 * | `sqs://[region]?endpoint=http://host:port` | `@bg/sqs` |
 * | `azure-queue://account?endpoint=…` or `azure-queue://?connectionString=…` | `@bg/azure-queue` |
 * | `pubsub://project?endpoint=host:port` | `@bg/pubsub` |
 * | `postgres://user:password@host:port/database[?schema=bg]` (`postgresql://` too) | `@bg/postgres` |
 *
 * Each package's README documents its URL parameters. Other schemes are served by adapters
 * registered with {@link registerAdapter}, which are consulted first.
 *
 * @example
 * ```ts
 * const adapter = await connect(process.env.BG_URL ?? 'memory:')
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<Adapter> {
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new BgError('INVALID_ARGUMENT', `connect needs a URL (a string or a URL), got ${describeValue(url)}`);
  }
  checkOptionsObject('connect options', options);
  checkOptionalFunction('load', options.load);
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    // No `cause`: the TypeError of `new URL` keeps the whole input, password and all.
    throw new BgError(
      'INVALID_ARGUMENT',
      `not a URL: ${JSON.stringify(bounded(redactUrl(String(url)), URL_ECHO_LIMIT))} (check the port is 1-65535 and special characters in the password are percent-encoded)`,
    );
  }
  const scheme = parsed.protocol;
  const source: AdapterSource | undefined = registeredAdapter(scheme) ?? ADAPTER_PACKAGES[scheme];
  if (source === undefined) throw unknownScheme(scheme);
  const loaded = await loadSource(scheme, source, options.load ?? loadFromApplication);
  const fromUrl = (loaded as Partial<UrlAdapterModule> | undefined)?.fromUrl;
  if (typeof fromUrl !== 'function') {
    throw new BgError(
      'CONTRACT_MISMATCH',
      `${describeSource(source)} for "${scheme}" URLs does not export fromUrl(url); upgrade it`,
    );
  }
  const adapter = await fromUrl(parsed);
  assertAdapter(adapter);
  return adapter;
}

/** At most this many characters of a bad URL or scheme reach an error message (it may be anything). */
const URL_ECHO_LIMIT = 200;

/** The error for a scheme nobody serves, saying how to serve it. */
function unknownScheme(scheme: string): BgError {
  const registered = registeredSchemes();
  return new BgError(
    'INVALID_ARGUMENT',
    `unknown backend scheme "${bounded(scheme, URL_ECHO_LIMIT)}"; built in: ${Object.keys(ADAPTER_PACKAGES).join(' ')}` +
      (registered.length > 0 ? `; registered: ${registered.join(' ')}` : '') +
      `. For another backend install its adapter package and register it: registerAdapter('${bounded(scheme, URL_ECHO_LIMIT)}', () => import('<package>')) in code, or bgctl --adapter <package> (BGCTL_ADAPTERS=<package>) on the command line`,
  );
}

/** Loads the module of a scheme's source, turning "module not found" into `ADAPTER_NOT_INSTALLED`. */
async function loadSource(
  scheme: string,
  source: AdapterSource,
  load: (packageName: string) => Promise<unknown>,
): Promise<unknown> {
  if (typeof source === 'object') return source;
  try {
    return await (typeof source === 'string' ? load(source) : source());
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      const hint =
        typeof source === 'string' ? `the ${source} package: pnpm add ${source}` : 'an adapter package that is not installed';
      throw new BgError('ADAPTER_NOT_INSTALLED', `"${scheme}" URLs need ${hint}`, { cause });
    }
    throw cause;
  }
}

/**
 * Imports an adapter package as the application would: first from here (hoisted installs,
 * bundlers), then resolved from the working directory (pnpm's strict layout, where
 * `@bg/core` cannot see its siblings).
 */
async function loadFromApplication(name: string): Promise<unknown> {
  try {
    return await import(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    let resolved: string;
    try {
      resolved = createRequire(join(process.cwd(), 'package.json')).resolve(name);
    } catch {
      throw error;
    }
    return import(pathToFileURL(resolved).href);
  }
}

/** Re-exported from `./redact.js`, where the one redaction of bg lives. */
export { redactUrl } from './redact.js';
