import { BgError } from '@bg/core';
import type { SqsAdapterOptions } from './options.js';
import { type SqsAdapter, sqsAdapter } from './sqs-adapter.js';

function integer(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new BgError('INVALID_ARGUMENT', `sqs URL: ${name} must be a positive integer`);
  return n;
}

function flag(url: URL, name: string): boolean | undefined {
  const raw = url.searchParams.get(name);
  return raw === null ? undefined : raw !== 'false' && raw !== '0';
}

/**
 * Parses an `sqs://` URL into adapter options:
 * `sqs://[accessKeyId:secretAccessKey@][region][?endpoint=http://host:port][&prefix=staging-][&fifo=true]
 * [&deadLetterSuffix=-dlq][&maxMessageBytes=1048576][&redriveMaxReceiveCount=50][&astralText=raw]`.
 * Without credentials in the URL the SDK's default credential chain is used (put real
 * credentials in the environment or an IAM role, not in URLs).
 */
export function optionsFromUrl(url: URL): SqsAdapterOptions {
  if (url.protocol !== 'sqs:') throw new BgError('INVALID_ARGUMENT', `not an sqs: URL (${url.protocol})`);
  const region = decodeURIComponent(url.hostname || url.pathname.replace(/^\/+/, '')) || undefined;
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  const prefix = url.searchParams.get('prefix') ?? undefined;
  const suffix = url.searchParams.get('deadLetterSuffix') ?? undefined;
  const astral = url.searchParams.get('astralText');
  if (astral !== null && astral !== 'raw' && astral !== 'base64') {
    throw new BgError('INVALID_ARGUMENT', 'sqs URL: astralText must be raw or base64');
  }
  const fifo = flag(url, 'fifo');
  const maxMessageBytes = integer(url, 'maxMessageBytes');
  const redrive = integer(url, 'redriveMaxReceiveCount');
  const credentials = url.username
    ? { accessKeyId: decodeURIComponent(url.username), secretAccessKey: decodeURIComponent(url.password) }
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
    ...(astral !== null ? { astralText: astral } : {}),
  };
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
