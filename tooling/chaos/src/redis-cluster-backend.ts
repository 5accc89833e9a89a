import { waitUntil } from '@bg/backends';
import { type RedisCluster, startRedisCluster } from '@bg/backends/redis';
import { queueKeys, redisAdapter } from '@bg/redis';
import { Cluster, Redis } from 'ioredis';
import type { ChaosBackend } from './backends.js';
import { diagnoseRedisQueue } from './redis-diagnose.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a restarted cluster may take to report `cluster_state:ok` on every node. */
const CLUSTER_OK_TIMEOUT_MS = 30_000;

/**
 * `kill -9` of every node of the cluster at once (a power cut), each node's AOF and
 * `nodes.conf` staying in its data folder.
 */
async function killAll(cluster: RedisCluster): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => n.kill()));
}

/**
 * Starts every node again on its port, data folder and cluster bus port (same node ID and
 * slots from its `nodes.conf`, data from its AOF) and resolves once every node reports
 * `cluster_state:ok` again (the nodes have found each other over the bus).
 */
async function startAll(cluster: RedisCluster, probes: readonly Redis[]): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => n.start()));
  await waitUntil(
    `redis cluster back on ports ${cluster.nodes.map((n) => n.port).join(', ')}`,
    async () => {
      for (const probe of probes) {
        if (!/cluster_state:ok/.test(String(await probe.cluster('INFO')))) return false;
      }
      return true;
    },
    CLUSTER_OK_TIMEOUT_MS,
    50,
  );
}

/**
 * A private three-master Redis Cluster (`startRedisCluster` of `@bg/backends`, every node
 * with AOF `appendfsync always`). Workers build their adapter with the adapter's `cluster`
 * option (no URL can say it: `CHAOS_REDIS_CLUSTER`); garbage and diagnosis go through an
 * ioredis `Cluster` of the harness's own. Restart: `kill -9` of every node, then each started
 * again in place (same port, bus port, data folder and `nodes.conf`); outage: the same with
 * the nodes down for the profile's outage. Undefined when redis-server is not installed.
 */
export async function redisClusterBackend(): Promise<ChaosBackend | undefined> {
  const cluster = await startRedisCluster(3, { durable: true });
  if (!cluster) return undefined;
  const prefix = 'chaos';
  const nodes = cluster.startupNodes.map(({ host, port }) => ({ host, port }));
  const adapter = redisAdapter({ cluster: nodes, prefix });
  const raw = new Cluster(nodes, {
    lazyConnect: true,
    clusterRetryStrategy: () => 200,
    redisOptions: { maxRetriesPerRequest: 50 },
  });
  raw.on('error', () => {}); // it reconnects by itself after the restart and the outage
  // One plain client per node, to read `CLUSTER INFO` after a restart (fail fast while down).
  const probes = cluster.nodes.map((n) => {
    const probe = new Redis({
      host: n.host,
      port: n.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    return probe;
  });
  return {
    name: 'redis-cluster',
    exactStats: true,
    url: undefined,
    cluster: { nodes, prefix },
    adapter,
    leaseMs: 3_000,
    // As on one Redis: values up to 512 MB; 2 MiB is twice the adapter's 1 MiB limit.
    raw: { oversizedBytes: 2 * 1024 * 1024, binary: 'bytes' },
    description: 'redis-server 7 cluster of 3 masters, each with AOF (appendfsync always); restart = kill -9 of every node',
    async restart() {
      await killAll(cluster);
      await startAll(cluster, probes);
    },
    async outage(ms) {
      await killAll(cluster);
      await sleep(ms);
      await startAll(cluster, probes);
    },
    async inject(queue, body) {
      await raw.xadd(queueKeys(prefix, queue).stream, '*', 'b', body);
    },
    diagnose: (queue, ids) => diagnoseRedisQueue(raw, prefix, queue, ids),
    async stop() {
      await adapter.close();
      raw.disconnect();
      for (const probe of probes) probe.disconnect();
      await cluster.stop();
    },
  };
}
