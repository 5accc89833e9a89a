/**
 * `pnpm chaos [--adapter memory|redis|redis-cluster|sqs|azure-queue|pubsub|postgres|all] [--profile full|ci] [--jobs N] [--kill-every MS] [--no-recycle]`
 *
 * Runs the "nothing lost" chaos profile against private real backends, one adapter after
 * the other, prints one summary line per adapter and exits non-zero if anything was lost,
 * a healthy job was dead-lettered, poison or garbage is missing from the dead letters, or a
 * worker died of anything but our kill. The graceful-recycle scenario runs after each.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ADAPTER_NAMES, type AdapterName, type ChaosBackend, startBackend } from './backends.js';
import { type ChaosProfile, CI_PROFILE, FULL_PROFILE } from './profiles.js';
import { runRecycle } from './recycle.js';
import { runChaos } from './run-chaos.js';
import { killAllWorkers } from './worker-pool.js';

const { values } = parseArgs({
  options: {
    adapter: { type: 'string', default: 'all' },
    profile: { type: 'string', default: 'full' },
    jobs: { type: 'string' },
    'kill-every': { type: 'string' },
    'no-recycle': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const base = values.profile === 'ci' ? CI_PROFILE : values.profile === 'full' ? FULL_PROFILE : undefined;
if (!base) throw new Error(`unknown profile ${values.profile} (ci or full)`);
const profile: ChaosProfile = {
  ...base,
  ...(values.jobs ? { jobs: Number(values.jobs) } : {}),
  ...(values['kill-every'] ? { killEveryMs: Number(values['kill-every']) } : {}),
};
const names: AdapterName[] =
  values.adapter === 'all' ? [...ADAPTER_NAMES] : (values.adapter ?? '').split(',').map((n) => n.trim() as AdapterName);
for (const n of names) if (!ADAPTER_NAMES.includes(n)) throw new Error(`unknown adapter ${n} (${ADAPTER_NAMES.join(', ')}, all)`);

const root = mkdtempSync(join(tmpdir(), 'bg-chaos-'));
const log = values.quiet
  ? () => {}
  : (m: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
log(`profile ${profile.name} (${profile.jobs} jobs), ledgers and worker logs in ${root}`);
const lines: string[] = [];
let failed = false;
let current: ChaosBackend | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllWorkers();
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
for (const name of names) {
  const backend = await startBackend(name);
  current = backend;
  if (!backend) {
    lines.push(`${name}: SKIPPED (backend not installed)`);
    continue;
  }
  try {
    const report = await runChaos({ backend, profile, runDir: join(root, name), log });
    lines.push(report.line);
    process.stdout.write(`${report.line}\n`);
    if (!report.ok) {
      failed = true;
      for (const p of [...report.lost.map((l) => `lost: ${l}`), ...report.problems].slice(0, 30)) lines.push(`  ${p}`);
    }
    if (!values['no-recycle']) {
      const recycle = await runRecycle({ backend, runDir: join(root, `${name}-recycle`), log });
      lines.push(recycle.line);
      process.stdout.write(`${recycle.line}\n`);
      if (!recycle.ok) {
        failed = true;
        for (const p of recycle.problems) lines.push(`  ${p}`);
      }
    }
  } catch (error) {
    failed = true;
    lines.push(`${name}: ERROR ${(error as Error).stack ?? String(error)}`);
  } finally {
    await backend.stop();
  }
}
process.stdout.write(`\n${lines.join('\n')}\n`);
process.exit(failed ? 1 : 0);
