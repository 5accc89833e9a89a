import { freePort, serveRestart } from '@bg/backends';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@bg/backends/redis';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string | undefined;
    durableRedisUrl: string | undefined;
    durableRestartUrl: string | undefined;
    passwordRedisUrl: string | undefined;
    /** A loopback port where nothing listens. */
    unreachableRedisUrl: string;
    /** `host:port,…` of the masters of a private three-master Redis Cluster. */
    redisClusterNodes: string | undefined;
  }
}

let servers: RedisServer[] = [];
let cluster: RedisCluster | undefined;

/** Starts private redis-servers for the run: plain, AOF-durable (restartable) and password-protected. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plain = await startRedis();
  const durable = plain ? await startRedis({ durable: true }) : undefined;
  const locked = plain ? await startRedis({ password: 's3cret' }) : undefined;
  servers = [plain, durable, locked].filter((s): s is RedisServer => s !== undefined);
  try {
    cluster = plain ? await startRedisCluster(3) : undefined;
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  // Test workers restart the durable server through a tiny loopback control endpoint.
  const control = await serveRestart(async () => {
    if (!durable) throw new Error('no durable redis-server to restart');
    await durable.restart();
  });
  project.provide('redisUrl', plain?.url);
  project.provide('durableRedisUrl', durable?.url);
  project.provide('durableRestartUrl', control.url);
  project.provide('unreachableRedisUrl', `redis://127.0.0.1:${await freePort()}`);
  project.provide('passwordRedisUrl', locked ? `redis://127.0.0.1:${locked.port}` : undefined);
  project.provide('redisClusterNodes', cluster?.startupNodes.map((n) => `${n.host}:${n.port}`).join(','));
  return async () => {
    await Promise.all([control.close(), ...servers.map((s) => s.stop()), cluster?.stop()]);
  };
}
