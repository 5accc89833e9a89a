/**
 * The registry of third-party URL schemes: {@link connect} consults it before its built-in
 * table, so an adapter written outside bg is reached by URL like ours.
 * @module
 */
import type { Adapter } from './adapter.js';
import { BgError } from './errors.js';

/** What an adapter package exports for `connect(url)`. */
export interface UrlAdapterModule {
  /** Builds an adapter from a connection URL of the package's scheme. */
  fromUrl(url: URL): Adapter | Promise<Adapter>;
  /** The URL schemes the package serves, e.g. `['fsq:']` (read by `bgctl --adapter`). */
  readonly schemes?: readonly string[];
}

/**
 * Where a registered scheme's adapter comes from: the module itself (`{ fromUrl }`), a
 * loader (`() => import('bg-adapter-x')`, run on first use), or a package name loaded as
 * the built-in ones are (through `connect`'s `load` option).
 */
export type AdapterSource = UrlAdapterModule | (() => Promise<unknown>) | string;

/** The scheme syntax of a URL protocol, lowercase, with its colon: `fsq:`, `my-queue+tls:`. */
const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*:$/;

/**
 * One registry per process, shared by every copy of `@bg/core` that is loaded (an adapter
 * package with its own copy registers where the application's `connect` looks).
 */
const REGISTRY_KEY = Symbol.for('bg.adapter-registry');

function registry(): Map<string, AdapterSource> {
  const holder = globalThis as { [REGISTRY_KEY]?: Map<string, AdapterSource> };
  holder[REGISTRY_KEY] ??= new Map();
  return holder[REGISTRY_KEY];
}

/**
 * Checks a scheme name and returns it with its trailing colon (`'fsq'` → `'fsq:'`).
 * Throws `INVALID_ARGUMENT` for anything a URL protocol cannot be.
 */
export function normalizeScheme(scheme: string): string {
  const withColon = typeof scheme === 'string' && !scheme.endsWith(':') ? `${scheme}:` : scheme;
  if (typeof withColon !== 'string' || !SCHEME_PATTERN.test(withColon)) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `invalid URL scheme ${JSON.stringify(scheme)}: use a lowercase letter, then lowercase letters, digits, "+", "-" or ".", ending with ":" (e.g. "fsq:")`,
    );
  }
  return withColon;
}

function isSource(source: unknown): source is AdapterSource {
  if (typeof source === 'string') return source.length > 0;
  if (typeof source === 'function') return true;
  return typeof source === 'object' && source !== null && typeof (source as UrlAdapterModule).fromUrl === 'function';
}

/**
 * Registers the adapter for a URL scheme, so `connect('fsq:///var/queues')` (and `bgctl`)
 * can use an adapter that is not built in. A registered scheme is consulted before the
 * built-in table (registering `redis:` replaces `@bg/redis` for this process).
 * Registering the same source again is harmless; a different source for a scheme already
 * registered is an `INVALID_ARGUMENT` error (call {@link unregisterAdapter} first).
 *
 * @example
 * ```ts
 * registerAdapter('fsq:', () => import('bg-adapter-fsq'))
 * const adapter = await connect('fsq:///var/lib/queues')
 * ```
 */
export function registerAdapter(scheme: string, source: AdapterSource): void {
  const key = normalizeScheme(scheme);
  if (!isSource(source)) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `registerAdapter(${JSON.stringify(key)}, …): give a module with fromUrl(url), a loader function or a package name`,
    );
  }
  const known = registry().get(key);
  if (known !== undefined && known !== source) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `the URL scheme "${key}" is already registered to ${describeSource(known)}; unregisterAdapter("${key}") before registering ${describeSource(source)}`,
    );
  }
  registry().set(key, source);
}

/** Removes a registered scheme; returns whether it was registered. Built-in schemes are not affected. */
export function unregisterAdapter(scheme: string): boolean {
  return registry().delete(normalizeScheme(scheme));
}

/** The source registered for a scheme (with its colon), if any. */
export function registeredAdapter(scheme: string): AdapterSource | undefined {
  return registry().get(scheme);
}

/** The registered schemes, sorted. */
export function registeredSchemes(): string[] {
  return [...registry().keys()].sort();
}

/** A short description of a source for error messages. */
export function describeSource(source: AdapterSource): string {
  if (typeof source === 'string') return `package ${source}`;
  if (typeof source === 'function') return `a loader function${source.name ? ` (${source.name})` : ''}`;
  return 'a module with fromUrl';
}
