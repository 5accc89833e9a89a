import { invalidUrl, urlParams } from '@bg/core';
import type { SqsAdapterOptions } from './options.js';
import { type SqsAdapter, sqsAdapter } from './sqs-adapter.js';

/** The parameters an `sqs://` URL may carry (the URL tests generate from this list). */
export const SQS_URL_PARAMETERS = [
  'endpoint',
  'prefix',
  'fifo',
  'deadLetterSuffix',
  'maxMessageBytes',
  'redriveMaxReceiveCount',
  'astralText',
] as const;
/** One hostname label (no hyphen first or last), as `sqsAdapter` checks `region`. */
const REGION = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const NAME_PART = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * Parses an `sqs://` URL into adapter options:
 * `sqs://[accessKeyId:secretAccessKey@][region][?endpoint=http://host:port][&prefix=staging-][&fifo=true]
 * [&deadLetterSuffix=-dlq][&maxMessageBytes=1048576][&redriveMaxReceiveCount=50][&astralText=raw]`.
 * Without credentials in the URL the SDK's default credential chain is used (put real
 * credentials in the environment or an IAM role, not in URLs).
 *
 * The whole URL is checked before anything connects: a bad region, endpoint, number or
 * boolean, an unknown or repeated parameter is `INVALID_ARGUMENT` (not retryable), naming the
 * parameter and never echoing the credentials.
 */
export function optionsFromUrl(url: URL): SqsAdapterOptions {
  if (url.protocol !== 'sqs:') throw invalidUrl('sqs', 'the scheme must be sqs:');
  if (url.port !== '') throw invalidUrl('sqs', 'a port belongs in endpoint=, not after the region');
  if (url.hash !== '') throw invalidUrl('sqs', 'a #fragment has no meaning here');
  const path = url.pathname.replace(/^\/+/, '');
  if (url.hostname !== '' && path !== '') throw invalidUrl('sqs', 'nothing may follow the region (sqs://<region>?…)');
  const region = decodeURIComponentSafe(url.hostname || path) || undefined;
  if (region !== undefined && !REGION.test(region)) throw invalidUrl('sqs', 'the region must look like eu-west-1');
  if ((url.username === '') !== (url.password === '')) {
    throw invalidUrl('sqs', 'credentials need both parts: sqs://<accessKeyId>:<secretAccessKey>@<region>');
  }
  const params = urlParams(url, 'sqs', SQS_URL_PARAMETERS);
  const endpoint = params.httpUrl('endpoint');
  const prefix = params.string('prefix');
  const suffix = params.string('deadLetterSuffix');
  for (const [name, value] of [
    ['prefix', prefix],
    ['deadLetterSuffix', suffix],
  ] as const) {
    if (value !== undefined && !NAME_PART.test(value)) {
      throw invalidUrl('sqs', `parameter "${name}" must be 1-40 characters of A-Z a-z 0-9 _ -`);
    }
  }
  const astral = params.oneOf('astralText', ['raw', 'base64'] as const);
  const fifo = params.boolean('fifo');
  const maxMessageBytes = params.integer('maxMessageBytes', { min: 1, max: 1_048_576 });
  const redrive = params.integer('redriveMaxReceiveCount', { min: 1, max: 1_000 });
  const credentials = url.username
    ? { accessKeyId: decodeURIComponentSafe(url.username), secretAccessKey: decodeURIComponentSafe(url.password) }
    : endpoint !== undefined
      ? { accessKeyId: 'local', secretAccessKey: 'local' } // emulators accept any credentials
      : undefined;
  return {
    ...(region !== undefined ? { region } : endpoint !== undefined ? { region: 'us-east-1' } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    ...(prefix !== undefined ? { queueNamePrefix: prefix } : {}),
    ...(suffix !== undefined ? { deadLetterSuffix: suffix } : {}),
    ...(fifo !== undefined ? { fifo } : {}),
    ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
    ...(redrive !== undefined ? { redriveMaxReceiveCount: redrive } : {}),
    ...(astral !== undefined ? { astralText: astral } : {}),
  };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidUrl('sqs', 'a malformed %-escape in the region or credentials');
  }
}

/**
 * Builds an SQS adapter from an `sqs://` URL (used by `connect()` of `@bg/core`).
 *
 * @example
 * ```ts
 * const adapter = fromUrl(new URL('sqs://eu-west-1'))
 * const local = fromUrl(new URL('sqs://us-east-1?endpoint=http://127.0.0.1:9324'))
 * ```
 */
export function fromUrl(url: URL): SqsAdapter {
  return sqsAdapter(optionsFromUrl(url));
}
