import { type JobDefinition, redactUrl, UUID_PATTERN } from '@bg/core';
import { backendUrl, intOption, parse, singleQueue } from '../args.js';
import { withBackend } from '../backend.js';
import { type CommandContext, printHelp, printJson } from '../context.js';
import { parseDuration } from '../duration.js';
import { enqueueRaw } from '../enqueue-raw.js';
import { CliFailure, EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { loadJobs } from '../load-jobs.js';
import { echo, hasControlCharacter, printable, quoted } from '../printable.js';

/** A UUID for the `--id` error message. */
const EXAMPLE_ID = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';

/** `bgctl enqueue URL TYPE JSON [--queue q] [--delay d] [--key k] [--version n] [--module m]` */
export async function enqueueCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, {
    queue: { type: 'string' },
    delay: { type: 'string' },
    key: { type: 'string' },
    version: { type: 'string' },
    module: { type: 'string' },
    id: { type: 'string' },
  });
  if (values.help) {
    printHelp(ctx, HELP.enqueue);
    return EXIT.OK;
  }
  const url = backendUrl(positionals, ctx.io.env);
  const [type, json, extra] = positionals;
  if (!type || json === undefined) throw new UsageError('usage: bgctl enqueue URL TYPE JSON');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${echo(extra)}" (quote the JSON payload)`);
  // A type is a name: a control character in it is a mistake (or an attack on whoever later
  // reads it in a terminal, a log or the dashboard), never part of a job type.
  if (hasControlCharacter(type)) throw new UsageError(`the job type ${quoted(type)} has a control character`);
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`the payload is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const version = intOption(values.version, 'version', 1, 2_147_483_647);
  const delayMs = values.delay === undefined ? undefined : parseDuration(values.delay, '--delay');
  let definition: JobDefinition | undefined;
  if (values.module) {
    const loaded = await loadJobs(values.module, ctx.io.cwd);
    const found = loaded.jobs.get(type);
    if (!found) {
      throw new CliFailure(
        EXIT.NOT_FOUND,
        `${loaded.path} defines no job "${type}" (it has: ${[...loaded.jobs.keys()].map((t) => echo(t)).join(', ')})`,
      );
    }
    definition = found;
  }
  // Checked here, on one line, before any backend is opened (the envelope's own check says
  // where in its schema the value failed, over two lines).
  if (values.id !== undefined && !UUID_PATTERN.test(values.id)) {
    throw new UsageError(`--id must be a UUID (e.g. ${EXAMPLE_ID}), got ${quoted(values.id, 60)}`);
  }
  if (values.key !== undefined && (values.key.length < 1 || values.key.length > 512)) {
    throw new UsageError(`--key must be 1 to 512 characters, got ${values.key.length}`);
  }
  const queue = singleQueue(values.queue);
  const result = await withBackend(url, (adapter) =>
    enqueueRaw(adapter, {
      queue,
      type,
      payload,
      ...(version !== undefined ? { version } : {}),
      ...(delayMs !== undefined ? { delayMs } : {}),
      ...(values.key !== undefined ? { key: values.key } : {}),
      ...(values.id !== undefined ? { id: values.id } : {}),
      ...(definition ? { definition } : {}),
    }),
  );
  if (values.json) {
    printJson(ctx, {
      backend: redactUrl(url),
      queue,
      id: result.id,
      duplicate: result.duplicate,
      deduplication: result.deduplication,
      // A duplicate was not stored: the envelope built for it (another id) would mislead.
      envelope: result.duplicate ? null : result.envelope,
    });
  } else {
    ctx.io.out(
      `${result.duplicate ? 'duplicate (dropped by the backend; stored earlier as)' : 'enqueued'} ${printable(result.id)} (${printable(type)} v${result.envelope.v}) on ${queue}\n`,
    );
    if (result.deduplication === 'unsupported') {
      ctx.io.out(`note: this backend does not deduplicate: --key was stored for the handler but did not stop duplicates\n`);
    }
  }
  return EXIT.OK;
}
