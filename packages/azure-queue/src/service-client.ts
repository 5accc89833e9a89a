import {
  AnonymousCredential,
  newPipeline,
  QueueServiceClient,
  type RequestPolicyFactory,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-queue';
import { BgError } from '@bg/core/adapter';
import { checkPipelineOptions } from './pipeline-options.js';

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
  /**
   * A ready `QueueServiceClient` (its pipeline options are yours; `pipelineOptions` is ignored,
   * and so is the adapter's per-try timeout: `@azure/storage-queue` itself never gives up on a
   * try that gets no answer).
   */
  readonly serviceClient?: QueueServiceClient;
  /**
   * Pipeline options merged over the adapter's defaults ({@link DEFAULT_RETRY_OPTIONS}): 3 tries,
   * 100 ms → 1 s backoff, and `retryOptions.tryTimeoutInMs` 10 000 — a try that gets no answer
   * within it is aborted and the call fails with `UNREACHABLE` (`0`: no client-side timeout).
   */
  readonly pipelineOptions?: StoragePipelineOptions;
}

/**
 * The retry options the adapter uses unless `pipelineOptions.retryOptions` says otherwise:
 * fail fast (the SDK's own retries last minutes) and let the bg worker retry. `tryTimeoutInMs`
 * is enforced on the client (the SDK itself only passes it to the server as `timeout=`): a try
 * with no answer by then is aborted, and the call fails with `UNREACHABLE` without a retry.
 */
export const DEFAULT_RETRY_OPTIONS = Object.freeze({
  maxTries: 3,
  retryDelayInMs: 100,
  maxRetryDelayInMs: 1_000,
  tryTimeoutInMs: 10_000,
});

/** True for the `AbortError` of an aborted request. */
function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/**
 * A pipeline policy (in the SDK's `RequestPolicyFactory` form, placed before its retry policy)
 * giving every try of a request `tryTimeoutMs` to be answered (`request.timeout`, enforced by
 * the SDK's HTTP client), and naming the timeout in the error (`ETIMEDOUT`, which
 * `mapAzureError` turns into `UNREACHABLE`). A request that has its own timeout keeps it.
 */
export function tryTimeoutPolicy(tryTimeoutMs: number): RequestPolicyFactory {
  return {
    create: (next) => ({
      async sendRequest(request) {
        if (!(request.timeout > 0)) request.timeout = tryTimeoutMs;
        const timeoutMs = request.timeout;
        try {
          return await next.sendRequest(request);
        } catch (error) {
          // The SDK's HTTP client aborts on the caller's signal or on the timeout; not the former.
          if (!isAbortError(error) || request.abortSignal?.aborted) throw error;
          throw Object.assign(new Error(`Azure Storage did not answer within ${timeoutMs} ms (retryOptions.tryTimeoutInMs)`), {
            name: 'TimeoutError',
            code: 'ETIMEDOUT',
            cause: error,
          });
        }
      },
    }),
  };
}

/** The credential of a client made by `fromConnectionString` (a shared key, or anonymous with a SAS URL). */
function credentialOf(client: QueueServiceClient): AzureCredential | undefined {
  const credential = (client as unknown as { readonly credential?: unknown }).credential;
  return credential instanceof StorageSharedKeyCredential || credential instanceof AnonymousCredential ? credential : undefined;
}

/**
 * Builds the `QueueServiceClient` for the given connection options (a `serviceClient` is
 * returned as it is). Its pipeline — shared by every queue client it makes, dead-letter queues
 * included — has the adapter's retry options and the per-try timeout.
 */
export function createServiceClient(options: AzureConnectionOptions): QueueServiceClient {
  if (options.serviceClient) return options.serviceClient;
  checkPipelineOptions(options.pipelineOptions);
  const retryOptions = { ...DEFAULT_RETRY_OPTIONS, ...options.pipelineOptions?.retryOptions };
  const pipelineOptions: StoragePipelineOptions = { ...options.pipelineOptions, retryOptions };
  const tryTimeoutMs = retryOptions.tryTimeoutInMs;
  const build = (url: string, credential: AzureCredential): QueueServiceClient => {
    const pipeline = newPipeline(credential, pipelineOptions);
    if (tryTimeoutMs !== undefined && tryTimeoutMs > 0) pipeline.factories.push(tryTimeoutPolicy(tryTimeoutMs));
    return new QueueServiceClient(url, pipeline);
  };
  if (options.connectionString !== undefined) {
    let parsed: QueueServiceClient;
    try {
      // The SDK parses the connection string (account key or SAS, emulator shortcuts, proxy).
      parsed = QueueServiceClient.fromConnectionString(options.connectionString, pipelineOptions);
    } catch (cause) {
      throw new BgError('INVALID_ARGUMENT', 'invalid Azure Storage connection string', { cause });
    }
    const credential = credentialOf(parsed);
    return credential === undefined ? parsed : build(parsed.url, credential);
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
    return build(url, credential ?? new AnonymousCredential());
  } catch (cause) {
    // The SDK's TypeError carries the whole URL (a SAS signature included) as `input`: the
    // BgError masks it in its cause.
    throw new BgError('INVALID_ARGUMENT', 'invalid Azure Storage queue service URL', { cause });
  }
}
