import { azureQueueAdapter } from '@bg/azure-queue';
import { azuriteConnectionString, startAzurite } from '@bg/backends/azurite';
import { startPostgres } from '@bg/backends/postgres';
import { startPubSubEmulator } from '@bg/backends/pubsub-emulator';
import { startRedis } from '@bg/backends/redis';
import { startFauxqs } from '@bg/backends/sqs';
import type { Adapter } from '@bg/core';
import { postgresAdapter } from '@bg/postgres';
import { pubsubAdapter } from '@bg/pubsub';
import { redisAdapter } from '@bg/redis';
import { sqsAdapter } from '@bg/sqs';
import type { FaultProxyTarget } from './fault-proxy.js';

/** The adapters whose network the fault proxy breaks (memory has none). */
export const NETWORK_ADAPTERS = ['redis', 'postgres', 'sqs', 'azure-queue', 'pubsub'] as const;
/** One of {@link NETWORK_ADAPTERS}. */
export type NetworkAdapterName = (typeof NETWORK_ADAPTERS)[number];

/**
 * A private backend for network-fault runs: the worker's adapter reaches it through a fault
 * proxy ({@link NetworkTarget.adapterVia}); the harness's own adapter ({@link NetworkTarget.direct})
 * reaches it straight, to enqueue, read dead letters and count what is left.
 */
export interface NetworkTarget {
  readonly name: NetworkAdapterName;
  /** Where the backend listens (the proxy forwards there). */
  readonly backend: FaultProxyTarget;
  /** The shortest lease the backend takes (Pub/Sub: 10 s). */
  readonly minLeaseMs: number;
  /** The harness's adapter, straight to the backend. */
  readonly direct: Adapter;
  /**
   * A new adapter that reaches the backend at `address` (`host:port`, the proxy), each of its
   * calls given `callTimeoutMs` to be answered through the adapter's own timeout options.
   */
  adapterVia(address: string, callTimeoutMs: number): Adapter;
  /** Closes the harness's adapter and stops the backend. */
  stop(): Promise<void>;
}

const hostPort = (address: string): FaultProxyTarget => {
  const [host, port] = address.split(':');
  return { host: host ?? '127.0.0.1', port: Number(port) };
};

/** Options of {@link startNetworkTarget}. */
export interface NetworkTargetOptions {
  /**
   * Test only, Redis only: `no-command-timeout` gives the adapters of {@link NetworkTarget.adapterVia}
   * a `commandTimeoutMs` of one hour, as if the adapter had no command timeout (its behaviour
   * before `commandTimeoutMs` existed), so the black hole must catch it hanging. Never set
   * otherwise: the network round's self-proof uses it.
   */
  readonly testOnlyBreakage?: 'no-command-timeout';
}

/** The `commandTimeoutMs` of the `no-command-timeout` breakage: an hour, i.e. none within a run. */
const NO_COMMAND_TIMEOUT_MS = 3_600_000;

async function redisTarget(options: NetworkTargetOptions): Promise<NetworkTarget | undefined> {
  const server = await startRedis();
  if (!server) return undefined;
  const url = new URL(server.url);
  const prefix = 'net';
  const direct = redisAdapter({ url: server.url, prefix });
  return {
    name: 'redis',
    backend: { host: url.hostname, port: Number(url.port) },
    minLeaseMs: 1,
    direct,
    adapterVia: (address, callTimeoutMs) =>
      redisAdapter({
        url: `redis://${address}`,
        prefix,
        connectTimeoutMs: callTimeoutMs,
        commandTimeoutMs: options.testOnlyBreakage === 'no-command-timeout' ? NO_COMMAND_TIMEOUT_MS : callTimeoutMs,
      }),
    async stop() {
      await direct.close();
      await server.stop();
    },
  };
}

async function postgresTarget(): Promise<NetworkTarget | undefined> {
  const server = await startPostgres();
  if (!server) return undefined;
  const url = new URL(server.url);
  const schema = 'net';
  const direct = postgresAdapter({ url: server.url, schema });
  return {
    name: 'postgres',
    backend: { host: url.hostname, port: Number(url.port) },
    minLeaseMs: 1,
    direct,
    adapterVia(address, callTimeoutMs) {
      const via = new URL(server.url);
      via.host = address;
      return postgresAdapter({ url: via.href, schema, connectTimeoutMs: callTimeoutMs, queryTimeoutMs: callTimeoutMs });
    },
    async stop() {
      await direct.close();
      await server.stop();
    },
  };
}

async function sqsTarget(): Promise<NetworkTarget> {
  const server = await startFauxqs();
  const { region, credentials } = server;
  const direct = sqsAdapter({ endpoint: server.endpoint, region, credentials });
  return {
    name: 'sqs',
    backend: hostPort(new URL(server.endpoint).host),
    minLeaseMs: 1_000,
    direct,
    adapterVia: (address, callTimeoutMs) =>
      sqsAdapter({ endpoint: `http://${address}`, region, credentials, callTimeoutMs, connectTimeoutMs: callTimeoutMs }),
    async stop() {
      await direct.close();
      await server.stop();
    },
  };
}

async function azureTarget(): Promise<NetworkTarget | undefined> {
  const server = await startAzurite();
  if (!server) return undefined;
  const direct = azureQueueAdapter({ connectionString: server.connectionString });
  return {
    name: 'azure-queue',
    backend: { host: server.host, port: server.port },
    minLeaseMs: 1_000,
    direct,
    adapterVia: (address, callTimeoutMs) =>
      azureQueueAdapter({
        connectionString: azuriteConnectionString(`http://${address}/devstoreaccount1`),
        pipelineOptions: { retryOptions: { tryTimeoutInMs: callTimeoutMs } },
      }),
    async stop() {
      await direct.close();
      await server.stop();
    },
  };
}

async function pubsubTarget(): Promise<NetworkTarget | undefined> {
  const server = await startPubSubEmulator({ projectId: 'net' });
  if (!server) return undefined;
  const projectId = server.projectId;
  const direct = pubsubAdapter({ projectId, apiEndpoint: server.endpoint, emulator: true });
  return {
    name: 'pubsub',
    backend: { host: server.host, port: server.port },
    minLeaseMs: 10_000,
    direct,
    adapterVia: (address, callTimeoutMs) =>
      pubsubAdapter({ projectId, apiEndpoint: address, emulator: true, timeoutMs: callTimeoutMs }),
    async stop() {
      await direct.close();
      await server.stop();
    },
  };
}

/**
 * Starts a private backend for `name`. Undefined when its server is not installed (on a laptop;
 * in CI the harnesses of `@bg/backends` throw instead).
 * `options.testOnlyBreakage` breaks the adapters on purpose (see {@link NetworkTargetOptions}).
 */
export async function startNetworkTarget(
  name: NetworkAdapterName,
  options: NetworkTargetOptions = {},
): Promise<NetworkTarget | undefined> {
  if (options.testOnlyBreakage !== undefined && name !== 'redis')
    throw new Error(`the test-only breakage ${options.testOnlyBreakage} exists for redis only, not ${name}`);
  switch (name) {
    case 'redis':
      return redisTarget(options);
    case 'postgres':
      return postgresTarget();
    case 'sqs':
      return sqsTarget();
    case 'azure-queue':
      return azureTarget();
    case 'pubsub':
      return pubsubTarget();
  }
}
