import type { Adapter } from '@bg/core';
import { BgError } from '@bg/core';
import { type PubSubAdapterOptions, pubsubAdapter } from './pubsub-adapter.js';

function positive(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new BgError('INVALID_ARGUMENT', `pubsub URL: ${name} must be a positive number`);
  return n;
}

/**
 * Parses a `pubsub://` URL into adapter options:
 * `pubsub://<project>[?endpoint=host:port][&prefix=bg-][&timeoutMs=30000][&pollIntervalMs=100][&exactlyOnce=false]`.
 * With `endpoint` the adapter talks plain text to an emulator; without it, to Google with
 * Application Default Credentials.
 */
export function optionsFromUrl(url: URL): PubSubAdapterOptions {
  if (url.protocol !== 'pubsub:') throw new BgError('INVALID_ARGUMENT', `not a pubsub: URL (${url.protocol})`);
  const projectId = decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, '')) || undefined;
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  const prefix = url.searchParams.get('prefix') ?? undefined;
  const exactlyOnce = url.searchParams.get('exactlyOnce');
  const timeoutMs = positive(url, 'timeoutMs');
  const pollIntervalMs = positive(url, 'pollIntervalMs');
  return {
    ...(projectId !== undefined ? { projectId } : {}),
    ...(endpoint !== undefined ? { apiEndpoint: endpoint } : {}),
    ...(prefix !== undefined ? { prefix } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    ...(exactlyOnce !== null ? { exactlyOnceDelivery: exactlyOnce !== 'false' && exactlyOnce !== '0' } : {}),
  };
}

/**
 * Builds a Pub/Sub adapter from a `pubsub://` URL (used by `connect()` of `@bg/core`).
 *
 * @example
 * ```ts
 * const adapter = fromUrl(new URL('pubsub://dev-project?endpoint=127.0.0.1:8085'))
 * ```
 */
export function fromUrl(url: URL): Adapter {
  return pubsubAdapter(optionsFromUrl(url));
}
