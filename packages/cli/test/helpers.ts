import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { receiveUntil } from '@bg/backends';
import { type Adapter, connect, createQueue, defineJob } from '@bg/core';
import { inject } from 'vitest';
import { z } from 'zod';

/** The built CLI entry point. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
/** A folder with the `bgctl` command in it (see global-setup), first on the subprocesses' PATH. */
export const BIN_DIR = inject('binDir');
/** The package folder (cwd of the subprocesses). */
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Environment for the subprocesses: dummy AWS credentials for fauxqs, no CI colour noise. */
export const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  METADATA_SERVER_DETECTION: 'none',
  BG_URL: '',
  // `bgctl` is found by name, as a user's shell finds it; `node` beside it.
  PATH: [BIN_DIR, dirname(process.execPath), process.env.PATH ?? ''].join(delimiter),
  // stderr assertions are about the CLI's own output: silence Node process warnings (the AWS
  // SDK's Node 20 notice) and bg's one-line warnings (Redis persistence off on the private
  // test server; a test of the warnings turns them back on).
  NODE_NO_WARNINGS: '1',
  BG_NO_WARNINGS: '1',
};

/** What a `bgctl` subprocess did. */
export interface BgRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `bgctl …args` BY NAME through a shell (`sh -c 'bgctl "$@"'`), as a user would, and
 * resolves when it exited. Arguments are passed as "$@", never pasted into the command line.
 */
export function runBg(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<BgRun> {
  return runShell('bgctl "$@"', args, options);
}

/** Runs a shell command line with `args` as its "$@" in the CLI tests' environment. */
export function runShell(
  script: string,
  args: readonly string[] = [],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<BgRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script, 'sh', ...args], {
      cwd: options.cwd ?? PACKAGE_DIR,
      env: { ...CHILD_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh queue name per test. */
export function freshQueue(prefix = 'cli'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The URL of a provided backend, or the skip reason. */
export function backend(name: 'redis' | 'sqs' | 'azure' | 'azure2'): { url?: string; skip?: string } {
  const info = inject(name);
  return 'url' in info ? { url: info.url } : { skip: info.skip };
}

/**
 * Whether the adapter package of a URL scheme exports `fromUrl` yet (adapters are written in
 * parallel): the reason to skip, or undefined when ready.
 */
export async function adapterNotReady(packageName: string): Promise<string | undefined> {
  try {
    const mod = (await import(packageName)) as { fromUrl?: unknown };
    return typeof mod.fromUrl === 'function' ? undefined : `${packageName} does not export fromUrl yet`;
  } catch (error) {
    return `${packageName} cannot be loaded: ${String(error)}`;
  }
}

/** A job used to seed queues. */
export const seedJob = defineJob({ type: 'seed.job', schema: z.object({ n: z.number(), text: z.string() }) });
/** A second job type, for --type filters. */
export const otherJob = defineJob({ type: 'other.job', schema: z.object({ n: z.number() }) });

/** Connects from the test process (same adapter packages as the CLI). */
export function open(url: string): Promise<Adapter> {
  return connect(url, { load: (name) => import(name) });
}

/** Receives until `count` messages are leased (or the deadline passes); returns them all. */
export function receiveAll(adapter: Adapter, queue: string, count: number, timeoutMs = 15_000) {
  return receiveUntil(adapter, queue, count, { waitMs: 500, timeoutMs });
}

/**
 * Seeds a queue: `live` jobs of {@link seedJob} (unicode text), and `dead` dead letters
 * (enqueued, received, dead-lettered with reason `permanent-error` or `max-attempts`, acked).
 * Returns the ids and bodies.
 */
export async function seed(adapter: Adapter, queue: string, counts: { live: number; dead: number; deadType?: 'seed' | 'other' }) {
  await adapter.ensureQueue(queue);
  const jobs = createQueue({ adapter, queue });
  const dead: string[] = [];
  if (counts.dead > 0) {
    const job = counts.deadType === 'other' ? otherJob : seedJob;
    const payloads = Array.from({ length: counts.dead }, (_, n) => ({ n, text: `dead ${n} ✓ 🚀` }));
    const sent = await jobs.enqueueMany(job, payloads as never);
    const received = await receiveAll(adapter, queue, counts.dead);
    for (const [i, m] of received.entries()) {
      await adapter.deadLetter(queue, m, {
        reason: i % 2 === 0 ? 'permanent-error' : 'max-attempts',
        error: { message: `boom ${i}`, name: 'Error' },
        attempts: i % 2 === 0 ? 1 : 5,
        deadLetteredAt: Date.now() - (i % 2 === 0 ? 0 : 2 * 3_600_000),
      });
      await adapter.ack(queue, m.handle);
    }
    dead.push(...sent.map((s) => s.id));
  }
  const live = await jobs.enqueueMany(
    seedJob,
    Array.from({ length: counts.live }, (_, n) => ({ n, text: `héllo ${n} — 日本 🎉` })),
  );
  return { live: live.map((r) => r.id), dead };
}
