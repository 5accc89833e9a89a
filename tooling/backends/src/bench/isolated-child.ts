/**
 * The child process of `isolatedRound`: reads its round from `BG_BENCH_ROUND`, imports the
 * module, runs one un-counted warm-up round and then the measured rounds back to back, and writes
 * each measured round's result as one JSON line (see `isolatedRound`). Not imported: run as a script.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { type IsolatedRoundFn, type IsolatedRoundSpec, ROUND_RESULT_PREFIX, ROUND_SPEC_ENV } from './isolated-round.js';

const text = process.env[ROUND_SPEC_ENV];
if (text === undefined) throw new Error(`${ROUND_SPEC_ENV} is not set: this script is run by isolatedRound`);
const spec = JSON.parse(text) as IsolatedRoundSpec;
const loaded = (await import(spec.module)) as Record<string, unknown>;
const round = loaded[spec.export] as IsolatedRoundFn<unknown> | undefined;
if (typeof round !== 'function') throw new Error(`${spec.module} exports no function ${spec.export}`);

await round(spec.warmupArgs, { warmup: true, measuredRound: 0 });
const profileDir = process.env.BENCH_PROFILE;
for (let k = 1; k <= spec.measuredRounds; k++) {
  const profiler = profileDir ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const result = await round(spec.args, { warmup: false, measuredRound: k });
  if (profiler && profileDir) {
    const { profile } = await profiler.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    const name = `${spec.label.replace(/[^\w.-]+/g, '_')}-${process.pid}-${k}.cpuprofile`;
    writeFileSync(join(profileDir, name), JSON.stringify(profile));
    profiler.disconnect();
  }
  await new Promise<void>((resolve) =>
    process.stdout.write(`${ROUND_RESULT_PREFIX}${JSON.stringify(result)}\n`, () => resolve()),
  );
}
// Exit at once: a library may leave timers behind (the round closed what it opened).
process.exit(0);
