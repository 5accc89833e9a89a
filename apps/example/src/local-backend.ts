/**
 * Picks the demo's backend from `BG_URL`: a real URL is used as is; nothing (or a shortcut)
 * starts a private local server for the demo, with the harnesses of `@bg/backends`.
 * @module
 */
import { redactUrl } from '@bg/core';

/** A backend the demo runs on. */
export interface DemoBackend {
  /** The `BG_URL` handed to the service, the workers and the CLI. */
  readonly url: string;
  /** Human description, e.g. "Azurite 127.0.0.1:41233 (data folder …)". */
  readonly description: string;
  /** Extra environment for the child processes (e.g. dummy AWS credentials for the emulator). */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the server if the demo started it. */
  stop(): Promise<void>;
}

/** The `BG_URL` shortcuts that start a local server. */
export const LOCAL_SHORTCUTS = ['azurite', 'pubsub', 'sqs', 'redis', 'postgres'] as const;

function notInstalled(what: string): Error {
  return new Error(`${what} is not installed here; run bash tooling/scripts/setup.sh, or set BG_URL to a running backend`);
}

/**
 * Resolves `BG_URL` for the demo. Unset or `azurite`: a durable Azurite with its data folder
 * under `dataDir`; `pubsub`: the Pub/Sub emulator; `sqs`: the fauxqs SQS emulator (in this
 * process); `redis`: a private redis-server with an append-only file; `postgres`: a private
 * PostgreSQL (initdb into a temp folder).
 * Anything else must be a backend URL (`redis://…`, `sqs://…`, `azure-queue://…`, `pubsub://…`).
 */
export async function startDemoBackend(spec: string | undefined, dataDir: string): Promise<DemoBackend> {
  const choice = (spec ?? '').trim() || 'azurite';
  switch (choice) {
    case 'azurite':
    case 'azure':
    case 'azure-queue': {
      const { startAzurite } = await import('@bg/backends/azurite');
      const server = await startAzurite({ dataDir: `${dataDir}/azurite` });
      if (!server) throw notInstalled('Azurite');
      const params = new URLSearchParams({ accountKey: server.accountKey, endpoint: server.queueEndpoint });
      return {
        url: `azure-queue://${server.accountName}?${params}`,
        description: `Azurite on ${server.host}:${server.port}, pid ${server.pid} (durable: data folder ${server.dataDir})`,
        env: {},
        stop: () => server.stop(),
      };
    }
    case 'pubsub': {
      const { startPubSubEmulator } = await import('@bg/backends/pubsub-emulator');
      const emulator = await startPubSubEmulator({ projectId: 'bg-demo' });
      if (!emulator) throw notInstalled('The Pub/Sub emulator');
      return {
        url: `pubsub://${emulator.projectId}?endpoint=${emulator.endpoint}`,
        description: `the Pub/Sub emulator on ${emulator.endpoint}, pid ${emulator.pid} (in memory: it outlives every demo process)`,
        // The Google client looks for a metadata server unless told there is none.
        env: { METADATA_SERVER_DETECTION: 'none' },
        stop: () => emulator.stop(),
      };
    }
    case 'sqs': {
      const { startFauxqs } = await import('@bg/backends/sqs');
      const server = await startFauxqs();
      return {
        url: `sqs://${server.region}?endpoint=${encodeURIComponent(server.endpoint)}`,
        description: `the fauxqs SQS emulator on ${server.endpoint} (inside the demo process: it outlives every worker)`,
        // With an endpoint the adapter uses dummy credentials. The SDK's notice about Node 20
        // support ending in 2027 would be printed by every process: silence it for the demo.
        env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stop: () => server.stop(),
      };
    }
    case 'redis':
      return startRedisBackend();
    case 'postgres':
    case 'postgresql':
      return startPostgresBackend();
    default:
      return { url: choice, description: redactUrl(choice), env: {}, stop: async () => {} };
  }
}

/** The parts of `@bg/backends/redis` the demo uses (loaded lazily: it may not be built yet). */
interface RedisHarness {
  startRedis(options?: {
    durable?: boolean;
  }): Promise<{ readonly url: string; readonly pid: number; readonly dataDir: string; stop(): Promise<void> } | undefined>;
}

async function startRedisBackend(): Promise<DemoBackend> {
  const name = '@bg/backends/redis';
  let harness: RedisHarness;
  try {
    harness = (await import(name)) as RedisHarness;
  } catch (cause) {
    throw new Error('the redis harness (@bg/backends/redis) is not built', { cause });
  }
  // Durable: append-only file with fsync on every write, like a production Redis for jobs.
  const server = await harness.startRedis({ durable: true });
  if (!server) throw notInstalled('redis-server');
  return {
    url: server.url,
    description: `redis-server on ${server.url.replace(/^redis:\/\//, '')}, pid ${server.pid} (durable: append-only file in ${server.dataDir})`,
    env: {},
    stop: () => server.stop(),
  };
}

/** The part of `@bg/backends/postgres` the demo uses (loaded lazily, like the Redis harness). */
interface PostgresHarness {
  startPostgres(): Promise<
    { readonly url: string; readonly pid: number; readonly dataDir: string; stop(): Promise<void> } | undefined
  >;
}

async function startPostgresBackend(): Promise<DemoBackend> {
  const name = '@bg/backends/postgres';
  let harness: PostgresHarness;
  try {
    harness = (await import(name)) as PostgresHarness;
  } catch (cause) {
    throw new Error('the PostgreSQL harness (@bg/backends/postgres) is not built', { cause });
  }
  const server = await harness.startPostgres();
  if (!server) throw notInstalled('PostgreSQL');
  return {
    url: server.url,
    description: `PostgreSQL on ${server.url.replace(/^postgres:\/\/[^@]*@/, '')}, pid ${server.pid} (data folder ${server.dataDir})`,
    env: {},
    stop: () => server.stop(),
  };
}
