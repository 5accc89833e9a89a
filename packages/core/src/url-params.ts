/**
 * Validation of connection-URL parameters for the adapters' `fromUrl`: every parameter is
 * known, given once and well-formed before anything connects.
 * @module
 */

import { BgError } from './errors.js';

/** Reads and checks the query parameters of one connection URL. */
export interface UrlParams {
  /** A string parameter (undefined when absent; empty is an error). */
  string(name: string): string | undefined;
  /** An integer parameter within `[min, max]`. */
  integer(name: string, range: { readonly min: number; readonly max: number }): number | undefined;
  /** A boolean parameter: `true`/`false`/`1`/`0`. */
  boolean(name: string): boolean | undefined;
  /** A parameter restricted to `values`. */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined;
  /** An `http:`/`https:` URL with a host (and a port 1-65535 when given). */
  httpUrl(name: string): string | undefined;
  /** `host[:port]` (port 1-65535), as gRPC endpoints are written. */
  hostPort(name: string): string | undefined;
}

/**
 * Checks the query of `url` against the `known` parameter names (unknown or repeated names
 * are `INVALID_ARGUMENT`, most likely a typo) and returns typed readers. Every error is
 * `INVALID_ARGUMENT`, not retryable, names the scheme and the parameter and never echoes a
 * value (a value may be a secret).
 *
 * @example
 * ```ts
 * const params = urlParams(url, 'sqs', ['endpoint', 'fifo'])
 * const fifo = params.boolean('fifo')
 * ```
 */
export function urlParams(url: URL, scheme: string, known: readonly string[]): UrlParams {
  const seen = new Set<string>();
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name)) {
      throw invalidUrl(
        scheme,
        `unknown parameter ${JSON.stringify(name.slice(0, 40))}; known: ${known.length > 0 ? known.join(', ') : 'none'}`,
      );
    }
    if (seen.has(name)) throw invalidUrl(scheme, `parameter "${name}" is given more than once`);
    seen.add(name);
  }
  const raw = (name: string): string | undefined => {
    const value = url.searchParams.get(name);
    if (value === null) return undefined;
    if (value.trim() === '') throw invalidUrl(scheme, `parameter "${name}" is empty`);
    return value;
  };
  return {
    string: raw,
    integer(name, { min, max }) {
      const value = raw(name);
      if (value === undefined) return undefined;
      const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        throw invalidUrl(scheme, `parameter "${name}" must be an integer from ${min} to ${max}`);
      }
      return n;
    },
    boolean(name) {
      const value = raw(name);
      if (value === undefined) return undefined;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw invalidUrl(scheme, `parameter "${name}" must be true, false, 1 or 0`);
    },
    oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
      const value = raw(name);
      if (value === undefined) return undefined;
      if (!(values as readonly string[]).includes(value)) {
        throw invalidUrl(scheme, `parameter "${name}" must be one of ${values.join(', ')}`);
      }
      return value as T;
    },
    httpUrl(name) {
      const value = raw(name);
      if (value === undefined) return undefined;
      let parsed: URL | undefined;
      try {
        parsed = new URL(value);
      } catch {
        parsed = undefined;
      }
      if (
        !parsed ||
        (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
        parsed.hostname === '' ||
        parsed.port === '0'
      ) {
        throw invalidUrl(scheme, `parameter "${name}" must be an http(s) URL such as http://127.0.0.1:4566 (percent-encoded)`);
      }
      return value;
    },
    hostPort(name) {
      const value = raw(name);
      if (value === undefined) return undefined;
      const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(value);
      const port = match?.[2] === undefined ? undefined : Number(match[2]);
      if (!match || (port !== undefined && (port < 1 || port > 65_535))) {
        throw invalidUrl(scheme, `parameter "${name}" must be host or host:port (port 1-65535), such as 127.0.0.1:8085`);
      }
      return value;
    },
  };
}

/** The `INVALID_ARGUMENT` error of a bad connection URL (never retryable; say what is wrong, not the value). */
export function invalidUrl(scheme: string, problem: string): BgError {
  return new BgError('INVALID_ARGUMENT', `${scheme} URL: ${problem}`, { retryable: false });
}
