import type { Adapter } from '@bg/core';
import { BgError } from '@bg/core';
import { fsqAdapter } from './fsq-adapter.js';

/** The URL schemes this package serves (read by `bgctl --adapter bg-adapter-fsq`). */
export const schemes: readonly string[] = Object.freeze(['fsq:']);

/**
 * Builds an adapter from `fsq:///absolute/path/to/root` (a local folder; no host). For
 * `connect()` of `@bg/core` once the scheme is registered.
 */
export function fromUrl(url: URL): Adapter {
  if (url.protocol !== 'fsq:') throw new BgError('INVALID_ARGUMENT', `fsq: expected an fsq: URL, got "${url.protocol}"`);
  if (url.host !== '') {
    throw new BgError('INVALID_ARGUMENT', 'fsq: URLs name a local folder: fsq:///absolute/path (three slashes, no host)');
  }
  const root = decodeURIComponent(url.pathname);
  if (root === '' || root === '/')
    throw new BgError('INVALID_ARGUMENT', 'fsq: the URL must name a folder, e.g. fsq:///var/lib/queues');
  return fsqAdapter({ root });
}
