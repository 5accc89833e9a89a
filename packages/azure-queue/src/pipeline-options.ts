import type { StoragePipelineOptions } from '@azure/storage-queue';
import { durationOption, integerOption, invalidOption } from '@bg/core/adapter';

const OWNER = 'azure-queue';
/** The `retryOptions` durations, in ms, that become timers or the SDK's delays. */
const RETRY_DURATIONS = ['tryTimeoutInMs', 'retryDelayInMs', 'maxRetryDelayInMs'] as const;

/**
 * Checks `pipelineOptions` at construction (`INVALID_ARGUMENT`, not retryable, naming the
 * option): an object, and in `retryOptions` a whole number of tries from 1 to 100 and durations
 * from 0 to 2^31 − 1 ms. The SDK took any value: a `tryTimeoutInMs` above 2^31 − 1 became a timer
 * Node fires after 1 ms (every call failed at once with `UNREACHABLE`), `NaN` turned the try
 * timeout off without a word (a call to a server that never answers then waited for ever), and
 * `maxTries` 0 or 1.5 was taken as it was.
 */
export function checkPipelineOptions(options: StoragePipelineOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw invalidOption(OWNER, 'pipelineOptions', 'an object of StoragePipelineOptions', options);
  }
  const retry = options.retryOptions;
  if (retry === undefined) return;
  if (typeof retry !== 'object' || retry === null) {
    throw invalidOption(OWNER, 'pipelineOptions.retryOptions', 'an object of StorageRetryOptions', retry);
  }
  integerOption(OWNER, 'pipelineOptions.retryOptions.maxTries', retry.maxTries, 1, 1, 100);
  for (const name of RETRY_DURATIONS) durationOption(OWNER, `pipelineOptions.retryOptions.${name}`, retry[name], 0, 0);
}
