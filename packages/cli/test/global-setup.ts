import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/** Where a backend for the CLI tests runs, or why its tests skip. */
export type BackendInfo = { url: string } | { skip: string };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Redis (through the @bg/backends/redis harness). */
    redis: BackendInfo;
    /** The fauxqs SQS emulator (in the vitest main process, reachable over loopback). */
    sqs: BackendInfo;
    /** Two private Azurite servers, for moves between two cloud backends. */
    azure: BackendInfo;
    azure2: BackendInfo;
    /** A folder holding `bgctl` (linked to the package's bin, as npm links it): put it on PATH. */
    binDir: string;
  }
}

const stops: (() => Promise<void>)[] = [];

function failOrSkip(name: string, error: unknown): { skip: string } {
  const message = `${name} is not available: ${error instanceof Error ? error.message : String(error)}`;
  if (process.env.CI) throw new Error(message);
  return { skip: message };
}

async function startRedis(): Promise<BackendInfo> {
  try {
    const harness = (await import('@bg/backends/redis' as string)) as Record<string, unknown>;
    const start = (harness.startRedis ?? harness.startRedisServer) as
      | (() => Promise<{ url?: string; port?: number; stop(): Promise<void> } | undefined>)
      | undefined;
    if (typeof start !== 'function') return failOrSkip('Redis', 'no startRedis() in @bg/backends/redis');
    const server = await start();
    if (!server) return failOrSkip('Redis', 'redis-server is not installed');
    stops.push(() => server.stop());
    const base = server.url ?? `redis://127.0.0.1:${server.port}`;
    return { url: `${base.replace(/\/\d*$/, '')}/0?prefix=bg-cli` };
  } catch (error) {
    return failOrSkip('Redis', error);
  }
}

async function startSqs(): Promise<BackendInfo> {
  try {
    const { startFauxqs } = await import('@bg/backends/sqs');
    const server = await startFauxqs();
    stops.push(() => server.stop());
    return { url: `sqs://${server.region}?endpoint=${encodeURIComponent(server.endpoint)}` };
  } catch (error) {
    return failOrSkip('fauxqs', error);
  }
}

async function startAzure(): Promise<BackendInfo> {
  try {
    const { startAzurite } = await import('@bg/backends/azurite');
    const server = await startAzurite();
    if (!server) return { skip: 'Azurite is not installed (pnpm install)' };
    stops.push(() => server.stop());
    return {
      url: `azure-queue://${server.accountName}?accountKey=${encodeURIComponent(server.accountKey)}&endpoint=${encodeURIComponent(server.queueEndpoint)}`,
    };
  } catch (error) {
    return failOrSkip('Azurite', error);
  }
}

/** Starts the backends of the CLI tests on loopback; they are stopped by PID in teardown. */
export async function setup(project: TestProject): Promise<void> {
  const binDir = mkdtempSync(join(tmpdir(), 'bgctl-bin-'));
  symlinkSync(fileURLToPath(new URL('../bin/bgctl.js', import.meta.url)), join(binDir, 'bgctl'));
  stops.push(async () => rmSync(binDir, { recursive: true, force: true }));
  project.provide('binDir', binDir);
  const [redis, sqs, azure, azure2] = await Promise.all([startRedis(), startSqs(), startAzure(), startAzure()]);
  project.provide('redis', redis);
  project.provide('sqs', sqs);
  project.provide('azure', azure);
  project.provide('azure2', azure2);
}

/** Stops every backend started by {@link setup}. */
export async function teardown(): Promise<void> {
  await Promise.allSettled(stops.map((stop) => stop()));
}
