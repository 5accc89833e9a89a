import { type RedisAdapter, redisAdapter } from './redis-adapter.js';
import { parseRedisUrl } from './redis-url.js';

/**
 * `connect()` entry point: `redis://[user:password@]host:port[/db][?prefix=bg][&family=4]`
 * (`rediss://` for TLS). The whole URL is validated first ({@link parseRedisUrl}): a bad
 * database path, port, prefix or an unknown parameter is `INVALID_ARGUMENT` before anything
 * connects; a database the server does not have fails at connect, also `INVALID_ARGUMENT`.
 */
export function fromUrl(url: URL): RedisAdapter {
  const { prefix, clientUrl } = parseRedisUrl(url);
  return redisAdapter({ url: clientUrl, ...(prefix ? { prefix } : {}) });
}
