import {
  AnonymousCredential,
  type newPipeline,
  QueueServiceClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-queue';
import { BgError } from '@bg/core/adapter';

/**
 * A credential `QueueServiceClient` accepts: `StorageSharedKeyCredential`, `AnonymousCredential`
 * or any `TokenCredential` (e.g. from `@azure/identity`).
 */
export type AzureCredential = NonNullable<Parameters<typeof newPipeline>[0]>;

/** How the adapter connects: one of a connection string, a URL with a credential, or your own client. */
export interface AzureConnectionOptions {
  /** An Azure Storage connection string (`DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…` or with `QueueEndpoint=…`/SAS). */
  readonly connectionString?: string;
  /** The queue service URL, e.g. `https://<account>.queue.core.windows.net` (may carry a SAS query). */
  readonly url?: string;
  /**
   * Credential for `url`: a `StorageSharedKeyCredential` (account key), any `TokenCredential`
   * from `@azure/identity` (e.g. `DefaultAzureCredential`), or `AnonymousCredential` for a SAS URL.
   */
  readonly credential?: AzureCredential;
  /** Shortcut for `credential: new StorageSharedKeyCredential(accountName, accountKey)` (with `url`, or `https://<accountName>.queue.core.windows.net`). */
  readonly accountName?: string;
  /** The account key for `accountName`. */
  readonly accountKey?: string;
  /** A ready `QueueServiceClient` (its pipeline options are yours; `pipelineOptions` is ignored). */
  readonly serviceClient?: QueueServiceClient;
  /**
   * Pipeline options merged over the adapter's defaults. The default retry policy fails fast
   * (3 tries, 100 ms → 1 s backoff, 30 s per try) instead of the SDK's minutes-long one.
   */
  readonly pipelineOptions?: StoragePipelineOptions;
}

/** The retry options the adapter uses unless `pipelineOptions.retryOptions` says otherwise. */
export const DEFAULT_RETRY_OPTIONS = Object.freeze({
  maxTries: 3,
  retryDelayInMs: 100,
  maxRetryDelayInMs: 1_000,
  tryTimeoutInMs: 30_000,
});

/** Builds the `QueueServiceClient` for the given connection options. */
export function createServiceClient(options: AzureConnectionOptions): QueueServiceClient {
  if (options.serviceClient) return options.serviceClient;
  const pipeline: StoragePipelineOptions = {
    ...options.pipelineOptions,
    retryOptions: { ...DEFAULT_RETRY_OPTIONS, ...options.pipelineOptions?.retryOptions },
  };
  if (options.connectionString !== undefined) {
    try {
      return QueueServiceClient.fromConnectionString(options.connectionString, pipeline);
    } catch (cause) {
      throw new BgError('INVALID_ARGUMENT', 'invalid Azure Storage connection string', { cause });
    }
  }
  let credential = options.credential;
  if (!credential && options.accountName !== undefined && options.accountKey !== undefined) {
    credential = new StorageSharedKeyCredential(options.accountName, options.accountKey);
  }
  const url = options.url ?? (options.accountName ? `https://${options.accountName}.queue.core.windows.net` : undefined);
  if (url === undefined) {
    throw new BgError(
      'INVALID_ARGUMENT',
      'azureQueueAdapter needs connectionString, url (+ credential), accountName + accountKey, or serviceClient',
    );
  }
  try {
    return new QueueServiceClient(url, credential ?? new AnonymousCredential(), pipeline);
  } catch (cause) {
    // The SDK's TypeError carries the whole URL (a SAS signature included) as `input`: the
    // BgError masks it in its cause.
    throw new BgError('INVALID_ARGUMENT', 'invalid Azure Storage queue service URL', { cause });
  }
}
