/**
 * What the Redis benches read from the server: its CPU (`INFO cpu`, µs resolution), its memory
 * (`INFO memory`) and, with `BENCH_COMMANDSTATS=1`, its time per command.
 */
import type { Redis } from 'ioredis';

/** redis-server's CPU time so far (user + system), µs. */
export async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  return (user + sys) * 1_000_000;
}

/** redis-server's `used_memory`, bytes. */
export async function usedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Whether `BENCH_COMMANDSTATS=1` asks for the server's time per command of each drain. */
export const commandStats = Boolean(process.env.BENCH_COMMANDSTATS);

/** Resets the server's command statistics (before a drain, with `BENCH_COMMANDSTATS`). */
export async function resetCommandStats(admin: Redis): Promise<void> {
  await admin.config('RESETSTAT');
}

/** Prints the server's calls and µs per job of each command since the last reset. */
export async function printCommandStats(admin: Redis, label: string, jobs: number): Promise<void> {
  const lines = [`  ${label}: server time per command (scripts' calls included)`];
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g)) {
    if (/^(info|config)(\||$)/.test(m[1] ?? '')) continue;
    lines.push(`    ${(m[1] ?? '').padEnd(14)} calls ${(m[2] ?? '').padStart(7)}  µs/job ${(Number(m[3]) / jobs).toFixed(2)}`);
  }
  console.log(lines.join('\n'));
}

/** Commands the server ran so far (scripts' inner calls included), INFO and CONFIG left out. */
export async function commandCount(admin: Redis): Promise<number> {
  let total = 0;
  for (const m of (await admin.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g))
    if (!/^(info|config)(\||$)/.test(m[1] ?? '')) total += Number(m[2]);
  return total;
}
