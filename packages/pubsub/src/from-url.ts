import type { Adapter } from '@bg/core/adapter';
import { invalidUrl, urlParams } from '@bg/core/adapter';
import { type PubSubAdapterOptions, pubsubAdapter } from './pubsub-adapter.js';
import { PREFIX_PATTERN, PROJECT_ID_PATTERN } from './resource-names.js';

/** The parameters a `pubsub://` URL may carry (the URL tests generate from this list). */
export const PUBSUB_URL_PARAMETERS = [
  'endpoint',
  'prefix',
  'timeoutMs',
  'pollIntervalMs',
  'exactlyOnce',
  'maxDeliveryAttempts',
] as const;

/**
 * Parses a `pubsub://` URL into adapter options:
 * `pubsub://<project>[?endpoint=host:port][&prefix=bg-][&timeoutMs=30000][&pollIntervalMs=1000][&exactlyOnce=false][&maxDeliveryAttempts=100]`.
 * With `endpoint` the adapter talks plain text to an emulator; without it, to Google with
 * Application Default Credentials (never credentials in the URL).
 *
 * The whole URL is checked before anything connects: a bad project, endpoint, number or
 * boolean, credentials, an unknown or repeated parameter is `INVALID_ARGUMENT` (not
 * retryable), naming the parameter and never echoing a value.
 */
export function optionsFromUrl(url: URL): PubSubAdapterOptions {
  if (url.protocol !== 'pubsub:') throw invalidUrl('pubsub', 'the scheme must be pubsub:');
  if (url.username !== '' || url.password !== '') {
    throw invalidUrl('pubsub', 'credentials do not belong in the URL: use Application Default Credentials');
  }
  if (url.port !== '') throw invalidUrl('pubsub', 'a port belongs in endpoint=, not after the project');
  if (url.hash !== '') throw invalidUrl('pubsub', 'a #fragment has no meaning here');
  const path = url.pathname.replace(/^\/+/, '');
  if (url.hostname !== '' && path !== '') throw invalidUrl('pubsub', 'nothing may follow the project (pubsub://<project>?…)');
  let projectId: string | undefined;
  try {
    projectId = decodeURIComponent(url.hostname || path) || undefined;
  } catch {
    throw invalidUrl('pubsub', 'a malformed %-escape in the project id');
  }
  if (projectId !== undefined && !PROJECT_ID_PATTERN.test(projectId)) {
    throw invalidUrl('pubsub', 'the project id must be letters, digits and hyphens (such as my-project)');
  }
  const params = urlParams(url, 'pubsub', PUBSUB_URL_PARAMETERS);
  const endpoint = params.hostPort('endpoint');
  const prefix = params.string('prefix');
  if (prefix !== undefined && !PREFIX_PATTERN.test(prefix)) {
    throw invalidUrl('pubsub', 'parameter "prefix" must be 1-40 characters of A-Z a-z 0-9 . _ ~ + -, starting with a letter');
  }
  const timeoutMs = params.integer('timeoutMs', { min: 1, max: 3_600_000 });
  const pollIntervalMs = params.integer('pollIntervalMs', { min: 1, max: 60_000 });
  const exactlyOnce = params.boolean('exactlyOnce');
  // A subscription made outside bg keeps its own policy: connect() users set this to match it.
  const maxDeliveryAttempts = params.integer('maxDeliveryAttempts', { min: 5, max: 100 });
  return {
    ...(projectId !== undefined ? { projectId } : {}),
    ...(endpoint !== undefined ? { apiEndpoint: endpoint } : {}),
    ...(prefix !== undefined ? { prefix } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    ...(exactlyOnce !== undefined ? { exactlyOnceDelivery: exactlyOnce } : {}),
    ...(maxDeliveryAttempts !== undefined ? { maxDeliveryAttempts } : {}),
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
