import {
  assertOptionsObject,
  BgError,
  checkOptionNames,
  durationOption,
  integerOption,
  invalidOption,
  objectOption,
} from '@bg/core/adapter';
import { REDIS_CAPABILITIES } from './capabilities.js';
import { HORIZON_MS, IDLE_CONSUMER_MS } from './lua-scripts.js';
import type { RedisAdapterOptions } from './options.js';
import { clientUrlOf, type RedisUrl } from './redis-url.js';

/** The URL used when neither `url`, `client` nor `cluster` is given. */
export const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** Redis's largest string (`proto-max-bulk-len`, 512 MB by default): no body can be larger. */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

/**
 * Default of `commandTimeoutMs`: longest a call waits for Redis's answer, and a connection may go
 * without a byte from Redis while commands wait before it is taken for dead and made again.
 */
export const COMMAND_TIMEOUT_MS = 10_000;

const PREFIX = /^[A-Za-z0-9:_.-]{1,64}$/;

/** Every option of {@link RedisAdapterOptions}: any other name is `INVALID_ARGUMENT`. */
const OPTION_NAMES: ReadonlySet<string> = new Set<keyof RedisAdapterOptions>([
  'url',
  'client',
  'cluster',
  'prefix',
  'maxPayloadBytes',
  'deduplicationWindowMs',
  'fallbackPollMs',
  'idleConsumerMs',
  'ownershipMarginMs',
  'connectTimeoutMs',
  'commandTimeoutMs',
  'onWarning',
]);

/** The options of {@link redisAdapter} after {@link checkOptions}: every value known good. */
export interface CheckedOptions {
  readonly prefix: string;
  readonly maxPayloadBytes: number;
  readonly deduplicationWindowMs: number;
  readonly ownershipMarginMs: number;
  readonly idleConsumerMs: number;
  readonly fallbackPollMs: number | undefined;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** The URL the adapter connects to, checked; undefined with `client` or `cluster`. */
  readonly url: RedisUrl | undefined;
}

/**
 * Checks every option of {@link redisAdapter} before anything connects: a value of the wrong
 * type or out of range is `INVALID_ARGUMENT` (not retryable) naming the option, never a value
 * handed to ioredis as it came (a negative or non-number `connectTimeoutMs` made ioredis throw
 * from a timer, ending the process; a `NaN` `maxPayloadBytes` let any body through). The `url`
 * follows the grammar of `connect()` ({@link clientUrlOf}); its `?prefix=` is used when the
 * `prefix` option is not given, and may not disagree with it.
 */
export function checkOptions(options: RedisAdapterOptions): CheckedOptions {
  // A URL string given as the options, or ioredis's own options ({ host, port, password }), were
  // ignored: the adapter connected to 127.0.0.1:6379, another server than the one meant.
  assertOptionsObject('redis', options, '{ url }');
  checkOptionNames('redisAdapter options', options, OPTION_NAMES);
  if (options.client !== undefined) {
    objectOption('redis', 'client', options.client, 'an ioredis Redis or Cluster', [
      'on',
      'off',
      'defineCommand',
      'pipeline',
      'multi',
    ]);
    checkNoKeyPrefix(options.client);
  }
  const ownsConnection = options.client === undefined && options.cluster === undefined;
  const url = ownsConnection ? clientUrlOf(options.url ?? DEFAULT_URL) : undefined;
  if (options.prefix !== undefined && url?.prefix !== undefined && url.prefix !== options.prefix)
    throw new BgError(
      'INVALID_ARGUMENT',
      `the prefix option (${JSON.stringify(options.prefix)}) and the url's ?prefix= (${JSON.stringify(url.prefix)}) disagree`,
      { retryable: false },
    );
  const prefix = options.prefix ?? url?.prefix ?? 'bg';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix))
    throw new BgError('INVALID_ARGUMENT', `invalid key prefix ${JSON.stringify(prefix)}`);
  const idleConsumerMs = options.idleConsumerMs ?? IDLE_CONSUMER_MS;
  if (!(Number.isSafeInteger(idleConsumerMs) && idleConsumerMs > 0))
    throw new BgError('INVALID_ARGUMENT', `idleConsumerMs must be a positive whole number of ms, got ${idleConsumerMs}`);
  const { fallbackPollMs } = options;
  if (fallbackPollMs !== undefined && !(Number.isFinite(fallbackPollMs) && fallbackPollMs > 0))
    throw new BgError('INVALID_ARGUMENT', `fallbackPollMs must be a positive number of ms, got ${fallbackPollMs}`);
  if (options.cluster !== undefined) checkClusterNodes(options.cluster);
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function')
    throw invalidOption('redis', 'onWarning', 'a function', options.onWarning);
  return {
    prefix,
    maxPayloadBytes: integerOption(
      'redis',
      'maxPayloadBytes',
      options.maxPayloadBytes,
      REDIS_CAPABILITIES.maxPayloadBytes,
      1,
      MAX_BODY_BYTES,
    ),
    // Whole ms (Redis's `SET … PX` takes nothing else), at most 10 years.
    deduplicationWindowMs: integerOption(
      'redis',
      'deduplicationWindowMs',
      options.deduplicationWindowMs,
      5 * 60_000,
      1,
      HORIZON_MS,
    ),
    ownershipMarginMs: durationOption('redis', 'ownershipMarginMs', options.ownershipMarginMs, 250, 0),
    idleConsumerMs,
    fallbackPollMs,
    connectTimeoutMs: durationOption('redis', 'connectTimeoutMs', options.connectTimeoutMs, 5_000, 1),
    commandTimeoutMs: durationOption('redis', 'commandTimeoutMs', options.commandTimeoutMs, COMMAND_TIMEOUT_MS, 1),
    url,
  };
}

/** `cluster` lists at least one `{ host, port }` with a host name and a port 1-65535. */
function checkClusterNodes(cluster: unknown): void {
  if (!Array.isArray(cluster) || cluster.length === 0)
    throw new BgError('INVALID_ARGUMENT', 'cluster must list at least one { host, port } startup node');
  for (const node of cluster) {
    const { host, port } = (node ?? {}) as { host?: unknown; port?: unknown };
    if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535)
      throw invalidOption('redis', 'cluster', 'a list of { host: a host name, port: 1-65535 }', node);
  }
}

/**
 * A client of the caller's may not carry ioredis's `keyPrefix`: ioredis prefixes the keys a command
 * names, not those the scripts build (a delayed job's hash) nor SCAN patterns nor the key names of
 * an XREAD reply, so a delayed job was dropped when it came due (its hash looked up unprefixed),
 * listQueues found no queue and idle workers missed every wake-up. The `prefix` option is the way.
 */
function checkNoKeyPrefix(client: unknown): void {
  const options = (client as { options?: { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } } }).options;
  const keyPrefix = options?.keyPrefix ?? options?.redisOptions?.keyPrefix;
  if (keyPrefix !== undefined && keyPrefix !== '')
    throw new BgError(
      'INVALID_ARGUMENT',
      "redis option client must not set ioredis's keyPrefix (the adapter's scripts and scans build keys it would not prefix): use the adapter's prefix option instead",
      { retryable: false },
    );
}
