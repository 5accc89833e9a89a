import { durationOption, integerOption, invalidOption } from '@bg/core/adapter';
import type { SqsAdapterOptions } from './options.js';

const OWNER = 'sqs';
/** A region is one hostname label (`eu-west-1`; no hyphen first or last): the SDK puts it in the endpoint's host name. */
const REGION = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** The `NodeHttpHandler` timeouts, in ms (0: none), that `clientConfig.requestHandler` options may set. */
const HANDLER_TIMEOUTS = ['connectionTimeout', 'requestTimeout', 'socketTimeout'] as const;

/**
 * Checks the settings of the SDK client the adapter makes (`region`, `endpoint`, and the
 * numbers in `clientConfig` that would override the adapter's own checked ones): a bad value is
 * `INVALID_ARGUMENT` at construction, never a call failing later (a region the SDK refuses
 * failed every call with a retryable error; an `endpoint` that is no URL, at the first call) or a
 * timer above 2^31 − 1 ms, which Node fires after 1 ms (every call then timed out at once).
 */
export function checkClientOptions(options: SqsAdapterOptions): void {
  const { region, endpoint, clientConfig } = options;
  if (region !== undefined && (typeof region !== 'string' || !REGION.test(region))) {
    throw invalidOption(OWNER, 'region', 'an AWS region such as eu-west-1', region);
  }
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    throw invalidOption(OWNER, 'endpoint', 'an http(s) URL such as http://127.0.0.1:9324', endpoint);
  }
  if (clientConfig === undefined) return;
  if (typeof clientConfig !== 'object' || clientConfig === null) {
    throw invalidOption(OWNER, 'clientConfig', 'an object of SQSClient settings', clientConfig);
  }
  integerOption(OWNER, 'clientConfig.maxAttempts', clientConfig.maxAttempts, 1, 1, 100);
  const handler = clientConfig.requestHandler;
  if (typeof handler !== 'object' || handler === null || typeof (handler as { handle?: unknown }).handle === 'function') return;
  for (const name of HANDLER_TIMEOUTS) {
    durationOption(OWNER, `clientConfig.requestHandler.${name}`, (handler as Record<string, unknown>)[name], 0, 0);
  }
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
