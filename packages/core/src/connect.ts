import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Adapter } from './adapter.js';
import { BgError } from './errors.js';
import { assertAdapter } from './queue.js';

/** URL schemes {@link connect} knows, and the adapter package each one loads. */
export const ADAPTER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  'memory:': '@bg/memory',
  'redis:': '@bg/redis',
  'rediss:': '@bg/redis',
  'sqs:': '@bg/sqs',
  'azure-queue:': '@bg/azure-queue',
  'pubsub:': '@bg/pubsub',
});

/** What an adapter package exports for {@link connect}. */
export interface UrlAdapterModule {
  /** Builds an adapter from a connection URL of the package's scheme. */
  fromUrl(url: URL): Adapter | Promise<Adapter>;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Loads a package by name (default: dynamic `import`). For bundlers and tests. */
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
 *
 * Each package's README documents its URL parameters.
 *
 * @example
 * ```ts
 * const adapter = await connect(process.env.BG_URL ?? 'memory:')
 * ```
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<Adapter> {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch (cause) {
    throw new BgError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(String(url))}`, { cause });
  }
  const packageName = ADAPTER_PACKAGES[parsed.protocol];
  if (!packageName) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `unknown backend scheme "${parsed.protocol}"; use one of ${Object.keys(ADAPTER_PACKAGES).join(' ')}`,
    );
  }
  const load = options.load ?? loadFromApplication;
  let loaded: unknown;
  try {
    loaded = await load(packageName);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new BgError(
        'ADAPTER_NOT_INSTALLED',
        `"${parsed.protocol}" URLs need the ${packageName} package: pnpm add ${packageName}`,
        { cause },
      );
    }
    throw cause;
  }
  const fromUrl = (loaded as Partial<UrlAdapterModule>).fromUrl;
  if (typeof fromUrl !== 'function') {
    throw new BgError('CONTRACT_MISMATCH', `${packageName} does not export fromUrl(url); upgrade it`);
  }
  const adapter = await fromUrl(parsed);
  assertAdapter(adapter);
  return adapter;
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

/** A URL with its password and secret-looking query values masked, for logs. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/key|secret|token|password|connectionstring|sig/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
