export { REDIS_CAPABILITIES } from './capabilities.js';
export { fromUrl } from './from-url.js';
export { GROUP, type QueueKeys, queueKeys } from './keys.js';
export { mapRedisError } from './map-error.js';
export type { RedisAdapterOptions } from './options.js';
export { type RedisAdapter, redisAdapter } from './redis-adapter.js';
export { parseRedisUrl, type RedisUrl, redisDbOf } from './redis-url.js';
export { checkServer } from './server-checks.js';
