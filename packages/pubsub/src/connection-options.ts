import { assertOptionsObject, BgError, booleanOption, checkOptionNames, describeValue, invalidOption } from '@bg/core/adapter';
import type { ClientConfig } from '@google-cloud/pubsub';
import type { PubSubAdapterOptions } from './pubsub-adapter.js';
import { PROJECT_ID_PATTERN } from './resource-names.js';

/** The options' owner in error messages. */
const OWNER = 'pubsub';

/** Every option {@link PubSubAdapterOptions} has (any other name is refused: most likely a typo). */
export const PUBSUB_OPTION_NAMES: readonly (keyof PubSubAdapterOptions)[] = [
  'projectId',
  'apiEndpoint',
  'emulator',
  'clientConfig',
  'prefix',
  'timeoutMs',
  'pollIntervalMs',
  'exactlyOnceDelivery',
  'retentionSeconds',
  'deadLetterRetentionSeconds',
  'deadLetterScanLimit',
  'maxDeliveryAttempts',
];
const OPTION_NAMES: ReadonlySet<string> = new Set(PUBSUB_OPTION_NAMES);

/**
 * `host`, `host:port` or `[ipv6]:port`, optionally after `http://` or `https://` and before one
 * `/` (what the Google client takes as `apiEndpoint`), port 1-65535; no credentials, no path.
 */
const ENDPOINT = /^(?:https?:\/\/)?(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?\/?$/i;

/** How the adapter reaches Pub/Sub: the options handed to the Google client, checked. */
export interface ConnectionOptions {
  readonly projectId?: string;
  readonly apiEndpoint?: string;
  readonly emulator?: boolean;
  readonly clientConfig?: ClientConfig;
}

/**
 * Checks what {@link PubSubAdapterOptions} hands to the Google client before anything connects:
 * the options must be an object of known names (`endpoint` for `apiEndpoint` went to the real
 * service instead of the emulator), `projectId` a project id, `apiEndpoint` a host with an
 * optional port (a bad one failed each call as a retryable `UNREACHABLE`, an empty one meant
 * the real service), `emulator` a boolean and `clientConfig` an object. A bad one is
 * `INVALID_ARGUMENT` (not retryable) naming the option.
 */
export function connectionOptions(options: unknown): ConnectionOptions {
  assertOptionsObject(OWNER, options);
  const given = options as Record<string, unknown>;
  checkOptionNames(OWNER, given, OPTION_NAMES);
  const { projectId, apiEndpoint, emulator, clientConfig } = given;
  if (projectId !== undefined && (typeof projectId !== 'string' || !PROJECT_ID_PATTERN.test(projectId))) {
    throw invalidOption(
      OWNER,
      'projectId',
      'a Google Cloud project id (letters, digits and hyphens, such as my-project)',
      projectId,
    );
  }
  if (apiEndpoint !== undefined && !validEndpoint(apiEndpoint)) {
    // Not echoed: an endpoint may carry a token by mistake.
    throw new BgError(
      'INVALID_ARGUMENT',
      `${OWNER} option apiEndpoint must be host or host:port (port 1-65535), such as 127.0.0.1:8085, got ${typeof apiEndpoint === 'string' ? `a string of ${apiEndpoint.length}` : describeValue(apiEndpoint)}`,
      { retryable: false },
    );
  }
  if (clientConfig !== undefined && (typeof clientConfig !== 'object' || clientConfig === null || Array.isArray(clientConfig))) {
    throw invalidOption(OWNER, 'clientConfig', 'an object of Google client options', clientConfig);
  }
  return {
    ...(projectId !== undefined ? { projectId } : {}),
    ...(apiEndpoint !== undefined ? { apiEndpoint: apiEndpoint as string } : {}),
    ...(emulator !== undefined ? { emulator: booleanOption(OWNER, 'emulator', emulator, false) } : {}),
    ...(clientConfig !== undefined ? { clientConfig: clientConfig as ClientConfig } : {}),
  };
}

function validEndpoint(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = ENDPOINT.exec(value);
  if (!match) return false;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  return port === undefined || (port >= 1 && port <= 65_535);
}
