import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { type KillableServer, killableServer, managedServer, skipMissing } from './managed-server.js';
import { freePort, makeDataDir, waitUntil } from './server-process.js';

/** A private redis-server we started (`restart()`: `kill -9`, then the AOF, if on, keeps the data). */
export interface RedisServer extends KillableServer {
  /** `redis://127.0.0.1:<port>` (with the password when one was set). */
  readonly url: string;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** AOF with `appendfsync always`: data survives `kill -9` (default false: nothing on disk). */
  readonly durable?: boolean;
  /** `requirepass` for the default user. */
  readonly password?: string;
  /** Extra `redis-server` arguments (e.g. cluster mode). */
  readonly args?: readonly string[];
}

const BINARY_CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

function findRedis(): string | undefined {
  return BINARY_CANDIDATES.find((p) => existsSync(p));
}

/** The `process_id` of the redis-server answering on `port`, or undefined when none answers (yet). */
function serverPid(port: number, password?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    const done = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(1_000);
    socket.on('connect', () => {
      socket.write(password ? `AUTH ${password}\r\nINFO server\r\n` : 'INFO server\r\n');
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      const pid = /process_id:(\d+)/.exec(buffer);
      if (pid) done(Number(pid[1]));
      else if (/^-|\r\n-/.test(buffer)) done(undefined);
    });
    socket.on('timeout', () => done(undefined));
    socket.on('error', () => done(undefined));
  });
}

/**
 * Starts a private `redis-server` on 127.0.0.1 on a free port with its own data folder and
 * waits until it answers PING. Returns undefined on a laptop without redis-server (with a
 * warning); throws in CI (`CI` set), where a missing server is a failure.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer | undefined> {
  const binary = findRedis();
  if (!binary) return skipMissing('redis-server', 'apt-get install -y redis-server (bash tooling/scripts/setup.sh does it)');
  const port = await freePort();
  const dataDir = makeDataDir('redis');
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dataDir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
  ];
  args.push(...(options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  if (options.password) args.push('--requirepass', options.password);
  if (options.args) args.push(...options.args);
  const server = managedServer({
    name: 'redis-server',
    where: `port ${port}`,
    command: binary,
    args,
    async ready(current) {
      const pid = await serverPid(port, options.password);
      // Another process grabbed the port first: never talk to a server that is not ours.
      if (pid !== undefined && pid !== current.pid)
        throw new Error(`port ${port} answers with redis-server pid ${pid}, not ours (${current.pid})`);
      return pid !== undefined;
    },
    readyTimeoutMs: 15_000,
  });
  await server.start();
  return killableServer(
    server,
    { port, dataDir, stopSignal: 'SIGTERM', graceMs: 3_000 },
    {
      url: options.password ? `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    },
  );
}

/** A private Redis Cluster we started: masters only, every slot assigned. */
export interface RedisCluster {
  /** The masters, in slot order (the first holds slot 0). */
  readonly nodes: readonly RedisServer[];
  /** `host:port` of every master, for a cluster client's startup nodes. */
  readonly startupNodes: readonly { host: string; port: number }[];
  /** Stops every node by PID and removes their data folders. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /**
   * Every node with AOF `appendfsync always` (as {@link StartRedisOptions.durable}): a node
   * killed and started again (`nodes[i].kill()`, `start()`) keeps its data, and its
   * `nodes.conf` (in its data folder) keeps its node ID and slots. Default false.
   */
  readonly durable?: boolean;
}

/**
 * Starts a private Redis Cluster of `masters` nodes (default 3) on free loopback ports (the
 * cluster bus ports too): each node a `redis-server --cluster-enabled yes` started by
 * {@link startRedis}, joined with `CLUSTER MEET` and given an equal share of the 16 384 slots
 * with `CLUSTER ADDSLOTSRANGE`; resolves when every node reports `cluster_state:ok`. Returns
 * undefined where redis-server is missing (as {@link startRedis}).
 */
export async function startRedisCluster(masters = 3, options: StartRedisClusterOptions = {}): Promise<RedisCluster | undefined> {
  const nodes: RedisServer[] = [];
  const buses: number[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const bus = await freePort();
      buses.push(bus);
      const node = await startRedis({
        ...(options.durable ? { durable: true } : {}),
        args: [
          '--cluster-enabled',
          'yes',
          // A lone master never learns its address from a peer: announce it (ioredis needs it).
          '--cluster-announce-ip',
          '127.0.0.1',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-port',
          String(bus),
          '--cluster-node-timeout',
          '5000',
        ],
      });
      if (!node) return undefined;
      nodes.push(node);
    }
    const per = Math.ceil(16_384 / masters);
    for (const [i, node] of nodes.entries()) {
      const from = i * per;
      const to = Math.min(16_383, from + per - 1);
      await redisCommand(node.port, ['CLUSTER', 'ADDSLOTSRANGE', String(from), String(to)]);
      // The bus port is not port + 10 000 here: MEET must name it.
      if (i > 0)
        await redisCommand(node.port, ['CLUSTER', 'MEET', '127.0.0.1', String((nodes[0] as RedisServer).port), String(buses[0])]);
    }
    await waitUntil(
      `redis cluster of ${masters} on ports ${nodes.map((n) => n.port).join(', ')}`,
      async () => {
        for (const node of nodes) {
          const info = await redisCommand(node.port, ['CLUSTER', 'INFO']);
          if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${masters}\\b`).test(info)) return false;
        }
        return true;
      },
      30_000,
      50,
    );
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** Sends one command to the redis-server on `port` (RESP) and returns its reply as text. */
function redisCommand(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffer = '';
    socket.setTimeout(5_000);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      if (buffer.startsWith('-')) {
        socket.destroy();
        reject(new Error(`redis ${args.join(' ')} on port ${port}: ${buffer.trim()}`));
      } else if (buffer.startsWith('+') && buffer.endsWith('\r\n')) {
        socket.destroy();
        resolve(buffer.slice(1).trim());
      } else if (buffer.startsWith('$')) {
        const end = buffer.indexOf('\r\n');
        const length = Number(buffer.slice(1, end));
        if (buffer.length >= end + 2 + length + 2) {
          socket.destroy();
          resolve(buffer.slice(end + 2, end + 2 + length));
        }
      }
    });
    socket.on('timeout', () => {
      socket.destroy();
      reject(new Error(`redis ${args.join(' ')} on port ${port}: timed out`));
    });
    socket.on('error', reject);
  });
}
