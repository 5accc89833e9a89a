import type { ChildProcess } from 'node:child_process';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueueServiceClient } from '@azure/storage-queue';
import { fromUrl as azureFromUrl, azureQueueName } from '@bg/azure-queue';
import { startPostgres } from '@bg/backends/postgres';
import { startPubSubEmulator } from '@bg/backends/pubsub-emulator';
import { startRedis } from '@bg/backends/redis';
import { startFauxqs } from '@bg/backends/sqs';
import { serveAdapterOverIpc } from '@bg/conformance';
import type { Adapter } from '@bg/core';
import { createMemoryStore, memoryAdapter, memoryInspector } from '@bg/memory';
import { fromUrl as postgresFromUrl } from '@bg/postgres';
import { fromUrl as pubsubFromUrl, queueResources } from '@bg/pubsub';
import { queueKeys, fromUrl as redisFromUrl } from '@bg/redis';
import { type SqsAdapter, fromUrl as sqsFromUrl } from '@bg/sqs';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startStoppableAzurite } from './azurite-server.js';
import type { RawLimits } from './garbage.js';
import { redisClusterBackend } from './redis-cluster-backend.js';
import { diagnoseRedisQueue } from './redis-diagnose.js';

/** The adapters the harness knows. */
export const ADAPTER_NAMES = ['memory', 'redis', 'redis-cluster', 'sqs', 'azure-queue', 'pubsub', 'postgres'] as const;
/** One of {@link ADAPTER_NAMES}. */
export type AdapterName = (typeof ADAPTER_NAMES)[number];

/** Where worker processes find a Redis Cluster: its startup nodes and the key prefix. */
export interface RedisClusterTarget {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly prefix: string;
}

/** A private backend started for one chaos run, with the faults it supports. */
export interface ChaosBackend {
  readonly name: AdapterName;
  /**
   * Connection URL for `connect()` in worker processes; undefined for memory (served over IPC)
   * and for a Redis Cluster ({@link ChaosBackend.cluster}).
   */
  readonly url: string | undefined;
  /** A Redis Cluster no URL can name: worker processes build `redisAdapter({ cluster, prefix })`. */
  readonly cluster?: RedisClusterTarget;
  /** The harness's own adapter on the backend (enqueue, dead-letter listing, stats). */
  readonly adapter: Adapter;
  /**
   * The adapter's `stats` count exactly (memory, Redis, Redis Cluster, PostgreSQL): a queue holding no live
   * message while jobs are missing proves them lost, and the run ends without waiting out
   * the stall window. Absent where counts are approximate or unknown (SQS, Azure, Pub/Sub).
   */
  readonly exactStats?: boolean;
  /** Lease the workers use (Pub/Sub's minimum ack deadline is 10 s). */
  readonly leaseMs: number;
  readonly raw: RawLimits;
  /** What the backend is and how its faults are injected (for the summary). */
  readonly description: string;
  /** Restart in place, keeping the data (absent where nothing persists). */
  readonly restart?: () => Promise<void>;
  /** Stops the server, keeps it down for `ms`, starts it again with its data (absent where nothing persists). */
  readonly outage?: (ms: number) => Promise<void>;
  /** Why restart/outage are skipped, when they are. */
  readonly skipped?: string;
  /** Writes a raw body into the live queue with the backend's own client (not the adapter). */
  inject(queue: string, body: string | Buffer): Promise<void>;
  /** Describes where lost jobs are in the backend, read with its own client (for bug reports). */
  diagnose?(queue: string, ids: readonly string[]): Promise<string[]>;
  /** Serves the adapter to a worker child (memory only). */
  serve?(child: ChildProcess): () => void;
  /** Stops the server and closes every client. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function memoryBackend(): Promise<ChaosBackend> {
  const store = createMemoryStore();
  const adapter = memoryAdapter({ store });
  const inspector = memoryInspector(store);
  return {
    name: 'memory',
    exactStats: true,
    url: undefined,
    adapter,
    leaseMs: 3_000,
    raw: { oversizedBytes: adapter.capabilities.maxPayloadBytes + 64 * 1024, binary: 'text' },
    description: 'in the harness process, served to worker processes over IPC',
    skipped: 'restart and outage skipped: the memory store lives in the harness process and keeps nothing',
    inject: (queue, body) => inspector.sendRaw(queue, typeof body === 'string' ? body : body.toString('latin1')),
    serve: (child) => serveAdapterOverIpc(child, adapter),
    async stop() {
      await adapter.close();
    },
  };
}

async function redisBackend(): Promise<ChaosBackend | undefined> {
  const server = await startRedis({ durable: true });
  if (!server) return undefined;
  const prefix = 'chaos';
  const url = `${server.url}?prefix=${prefix}`;
  const adapter = redisFromUrl(new URL(url));
  const raw = new Redis(server.url, { maxRetriesPerRequest: 50, lazyConnect: true });
  raw.on('error', () => {}); // it reconnects by itself after the restart and the outage
  return {
    name: 'redis',
    exactStats: true,
    url,
    adapter,
    leaseMs: 3_000,
    // Redis takes up to 512 MB per value; 2 MiB is twice the adapter's 1 MiB limit.
    raw: { oversizedBytes: 2 * 1024 * 1024, binary: 'bytes' },
    description: 'redis-server 7 with AOF (appendfsync always)',
    restart: () => server.restart(),
    async outage(ms) {
      await server.kill();
      await sleep(ms);
      await server.start();
    },
    async inject(queue, body) {
      await raw.xadd(queueKeys(prefix, queue).stream, '*', 'b', body);
    },
    diagnose: (queue, ids) => diagnoseRedisQueue(raw, prefix, queue, ids),
    async stop() {
      await adapter.close();
      raw.disconnect();
      await server.stop();
    },
  };
}

async function sqsBackend(): Promise<ChaosBackend> {
  const server = await startFauxqs();
  const url = `sqs://${server.region}?endpoint=${encodeURIComponent(server.endpoint)}`;
  const adapter = sqsFromUrl(new URL(url)) as SqsAdapter;
  const client = new SQSClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials });
  return {
    name: 'sqs',
    url,
    adapter,
    leaseMs: 3_000,
    // fauxqs (like SQS since 2025) accepts bodies up to 1 MiB; bodies are text only.
    raw: { oversizedBytes: 1024 * 1024, binary: 'text' },
    description: 'fauxqs 1.9 in the harness process',
    skipped: 'restart and outage skipped: fauxqs keeps nothing across a restart',
    async inject(queue, body) {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: adapter.sqsQueueName(queue) }));
      await client.send(
        new SendMessageCommand({ QueueUrl, MessageBody: typeof body === 'string' ? body : body.toString('latin1') }),
      );
    },
    async stop() {
      await adapter.close();
      client.destroy();
      await server.stop();
    },
  };
}

async function azureBackend(): Promise<ChaosBackend | undefined> {
  const server = await startStoppableAzurite();
  if (!server) return undefined;
  const url = `azure-queue://?connectionString=${encodeURIComponent(server.connectionString)}`;
  const adapter = await azureFromUrl(new URL(url));
  const service = QueueServiceClient.fromConnectionString(server.connectionString);
  return {
    name: 'azure-queue',
    url,
    adapter,
    leaseMs: 3_000,
    // 64 KiB of message text is the service limit (Azurite enforces it); messages are text (XML).
    raw: { oversizedBytes: 64 * 1024, binary: 'text' },
    description: 'Azurite 3.35 with a --location data folder (clean SIGTERM stops)',
    async restart() {
      await server.halt();
      await server.start();
    },
    async outage(ms) {
      await server.halt();
      await sleep(ms);
      await server.start();
    },
    async inject(queue, body) {
      const text = typeof body === 'string' ? body : body.toString('latin1');
      await service.getQueueClient(azureQueueName(queue)).sendMessage(text, { messageTimeToLive: -1 });
    },
    async stop() {
      await adapter.close();
      await server.stop();
    },
  };
}

async function pubsubBackend(): Promise<ChaosBackend | undefined> {
  const server = await startPubSubEmulator({ projectId: 'chaos' });
  if (!server) return undefined;
  const url = `pubsub://${server.projectId}?endpoint=${server.endpoint}`;
  const adapter = pubsubFromUrl(new URL(url));
  const options = new PubSub({ apiEndpoint: server.endpoint, emulatorMode: true, projectId: server.projectId })
    .options as ConstructorParameters<typeof v1.PublisherClient>[0];
  const publisher = new v1.PublisherClient(options);
  return {
    name: 'pubsub',
    url,
    adapter,
    leaseMs: 10_000,
    // Real Pub/Sub takes 10 MB per message (the emulator takes more); data is bytes.
    raw: { oversizedBytes: 10_000_000, binary: 'bytes' },
    description: 'the Google Cloud Pub/Sub emulator',
    skipped: 'restart and outage skipped: the emulator keeps nothing across a restart',
    async inject(queue, body) {
      const topic = queueResources(server.projectId, 'bg-', queue).topic;
      await publisher.publish({ topic, messages: [{ data: typeof body === 'string' ? Buffer.from(body, 'utf8') : body }] });
    },
    async stop() {
      await adapter.close();
      await publisher.close();
      await server.stop();
    },
  };
}

async function postgresBackend(): Promise<ChaosBackend | undefined> {
  const server = await startPostgres();
  if (!server) return undefined;
  const schema = 'chaos';
  const url = `${server.url}?schema=${schema}`;
  const adapter = postgresFromUrl(new URL(url));
  const raw = new pg.Pool({ connectionString: server.url, max: 2 });
  raw.on('error', () => {}); // reconnects by itself after the restart and the outage
  return {
    name: 'postgres',
    exactStats: true,
    url,
    adapter,
    leaseMs: 3_000,
    // A text column; 2 MiB is twice the adapter's 1 MiB limit. Bodies are text (no NUL bytes raw).
    raw: { oversizedBytes: 2 * 1024 * 1024, binary: 'text' },
    description: 'PostgreSQL 15 (kill -9 of the postmaster and its backends, crash recovery on restart)',
    restart: () => server.restart(),
    async outage(ms) {
      await server.kill();
      await sleep(ms);
      await server.start();
    },
    async inject(queue, body) {
      const text = typeof body === 'string' ? body : body.toString('latin1');
      // Like ioredis's retries: keep trying while the harness holds the server down.
      for (let attempt = 1; ; attempt++) {
        try {
          const now = Date.now();
          await raw.query(
            `insert into ${schema}.jobs (queue, id, body, visible_at, enqueued_at) values ($1, gen_random_uuid()::text, $2, $3, $3)`,
            [queue, text.replaceAll('\u0000', ''), now],
          );
          return;
        } catch (error) {
          if (attempt >= 100 || !/ECONNREFUSED|ECONNRESET|terminat|starting up|shutting down/i.test(String(error))) throw error;
          await sleep(300);
        }
      }
    },
    async stop() {
      await adapter.close();
      await raw.end();
      await server.stop();
    },
  };
}

/**
 * Starts a private backend for `name`. Undefined when its server is not installed (on a
 * laptop; in CI the harnesses of `@bg/backends` throw instead).
 */
export async function startBackend(name: AdapterName): Promise<ChaosBackend | undefined> {
  switch (name) {
    case 'memory':
      return memoryBackend();
    case 'redis':
      return redisBackend();
    case 'redis-cluster':
      return redisClusterBackend();
    case 'sqs':
      return sqsBackend();
    case 'azure-queue':
      return azureBackend();
    case 'pubsub':
      return pubsubBackend();
    case 'postgres':
      return postgresBackend();
  }
}
