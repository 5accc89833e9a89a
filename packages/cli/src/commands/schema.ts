import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from '../args.js';
import { type CommandContext, printHelp, printJson } from '../context.js';
import { CliFailure, EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { jobJsonSchema } from '../json-schema.js';
import { loadJobs } from '../load-jobs.js';
import { type CurrentJob, checkSnapshot, currentJob, emptySnapshot, parseSnapshot, updateSnapshot } from '../schema-snapshot.js';

/** Default snapshot file name. */
export const DEFAULT_SNAPSHOT_FILE = 'bg-schema.json';

async function currentJobs(modulePath: string, cwd: string, invalidDefinitionIsCheckFailure: boolean): Promise<CurrentJob[]> {
  let loaded: Awaited<ReturnType<typeof loadJobs>>;
  try {
    loaded = await loadJobs(modulePath, cwd);
  } catch (error) {
    // defineJob throws INVALID_JOB_DEFINITION at import for e.g. a missing migration.
    if (invalidDefinitionIsCheckFailure && error instanceof CliFailure && /INVALID_JOB_DEFINITION/.test(error.message)) {
      throw new CliFailure(EXIT.CHECK_FAILED, error.message);
    }
    throw error;
  }
  const jobs: CurrentJob[] = [];
  for (const job of loaded.jobs.values()) jobs.push(currentJob(job, await jobJsonSchema(job, loaded.path)));
  return jobs;
}

/** `bgctl schema snapshot|check MODULE [--file bg-schema.json] [--force]` */
export async function schemaCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, { file: { type: 'string' }, force: { type: 'boolean' } });
  const action = positionals.shift();
  if (values.help || action === undefined) {
    const asked = values.help;
    printHelp(ctx, HELP.schema, asked ? 'out' : 'err');
    return asked ? EXIT.OK : EXIT.USAGE;
  }
  if (action !== 'snapshot' && action !== 'check')
    throw new UsageError(`unknown schema action "${action}"; use snapshot or check`);
  const [modulePath, extra] = positionals;
  if (!modulePath) throw new UsageError(`usage: bgctl schema ${action} MODULE [--file ${DEFAULT_SNAPSHOT_FILE}]`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const file = resolve(ctx.io.cwd, values.file ?? DEFAULT_SNAPSHOT_FILE);
  const exists = existsSync(file);
  const snapshot = exists ? parseSnapshot(await readFile(file, 'utf8'), file) : emptySnapshot();

  if (action === 'snapshot') {
    const jobs = await currentJobs(modulePath, ctx.io.cwd, false);
    const update = updateSnapshot(snapshot, jobs, Boolean(values.force));
    const changed = !exists || update.added.length > 0 || update.overwritten.length > 0;
    if (changed) await mkdir(dirname(file), { recursive: true });
    if (changed) await writeFile(file, `${JSON.stringify(update.snapshot, null, 2)}\n`);
    if (values.json) printJson(ctx, { file, written: changed, added: update.added, overwritten: update.overwritten });
    else {
      ctx.io.out(changed ? `wrote ${file}\n` : `${file} is up to date\n`);
      for (const a of update.added) ctx.io.out(`  + ${a}\n`);
      for (const o of update.overwritten) ctx.io.out(`  ! ${o} rewritten (--force)\n`);
    }
    return EXIT.OK;
  }

  if (!exists)
    throw new CliFailure(EXIT.CHECK_FAILED, `${file} does not exist: run \`bgctl schema snapshot ${modulePath}\` and commit it`);
  const jobs = await currentJobs(modulePath, ctx.io.cwd, true);
  const findings = checkSnapshot(snapshot, jobs);
  const problems = findings.filter((f) => f.severity === 'problem');
  if (values.json) printJson(ctx, { file, ok: problems.length === 0, findings });
  else {
    for (const f of findings)
      (f.severity === 'problem' ? ctx.io.err : ctx.io.out)(`${f.severity === 'problem' ? '✗' : '!'} ${f.message}\n`);
    if (problems.length === 0) ctx.io.out(`schema check passed: ${jobs.length} job(s) match ${file}\n`);
    else ctx.io.err(`schema check failed: ${problems.length} problem(s)\n`);
  }
  return problems.length === 0 ? EXIT.OK : EXIT.CHECK_FAILED;
}
