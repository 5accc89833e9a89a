import { type Adapter, assertQueueName, BgError, redactUrl } from '@bg/core';
import { backendUrl, parse } from '../args.js';
import { withBackend } from '../backend.js';
import { confirmOrRefuse } from '../confirm.js';
import { type CommandContext, printHelp, printJson } from '../context.js';
import { EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { printableLine } from '../printable.js';

const ACTIONS = ['create', 'list', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** The queue names of `create`/`delete`: positionals and `--queue` values (comma-separated too). */
function namesOf(positionals: readonly string[], queueOption: readonly string[] | undefined): string[] {
  const names = [...positionals, ...(queueOption ?? [])].flatMap((v) => v.split(',')).filter((v) => v.length > 0);
  for (const name of names) assertQueueName(name);
  return [...new Set(names)];
}

/** The adapter's optional queue operation, or `UNSUPPORTED` naming the backend. */
function supported<K extends 'listQueues' | 'deleteQueue'>(adapter: Adapter, method: K): NonNullable<Adapter[K]> {
  const fn = adapter[method];
  if (typeof fn !== 'function') {
    const what = method === 'listQueues' ? 'list its queues' : 'delete queues';
    throw new BgError('UNSUPPORTED', `the ${adapter.name} adapter cannot ${what} (it does not implement ${method})`, {
      retryable: false,
    });
  }
  return fn.bind(adapter) as NonNullable<Adapter[K]>;
}

/** `bgctl queue create|list|delete URL [NAME...]` */
export async function queueCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, {
    queue: { type: 'string', multiple: true },
    yes: { type: 'boolean', short: 'y' },
  });
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    const asked = values.help;
    printHelp(ctx, HELP.queue, asked ? 'out' : 'err');
    return asked ? EXIT.OK : EXIT.USAGE;
  }
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown queue action "${action}"; actions: ${ACTIONS.join(', ')}`);
  }
  const url = backendUrl(rest, ctx.io.env);
  const backend = redactUrl(url);
  switch (action as Action) {
    case 'list': {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      const queues = await withBackend(url, (adapter) => supported(adapter, 'listQueues')());
      if (values.json) printJson(ctx, { backend, queues });
      else ctx.io.out(queues.length > 0 ? `${queues.map(printableLine).join('\n')}\n` : `no queues on ${backend}\n`);
      return EXIT.OK;
    }
    case 'create': {
      const names = namesOf(rest, values.queue);
      if (names.length === 0) throw new UsageError('bgctl queue create needs at least one queue name');
      await withBackend(url, async (adapter) => {
        for (const name of names) await adapter.ensureQueue(name);
      });
      if (values.json) printJson(ctx, { backend, created: names });
      else for (const name of names) ctx.io.out(`queue ${name} is ready (created if it was missing)\n`);
      return EXIT.OK;
    }
    case 'delete': {
      const names = namesOf(rest, values.queue);
      if (names.length === 0) throw new UsageError('bgctl queue delete needs at least one queue name');
      const outcome = await withBackend(url, async (adapter) => {
        const remove = supported(adapter, 'deleteQueue');
        await confirmOrRefuse(
          ctx,
          `delete ${names.length === 1 ? `queue ${names[0]}` : `${names.length} queues (${names.join(', ')})`} with every job and dead letter in it?`,
          values.yes,
        );
        const deleted: string[] = [];
        const missing: string[] = [];
        for (const name of names) ((await remove(name)) ? deleted : missing).push(name);
        return { deleted, missing };
      });
      if (values.json) printJson(ctx, { backend, ...outcome });
      else {
        for (const name of outcome.deleted) ctx.io.out(`deleted queue ${name}\n`);
        for (const name of outcome.missing) ctx.io.err(`no queue ${name} on ${backend}: nothing deleted\n`);
      }
      return outcome.missing.length > 0 ? EXIT.NOT_FOUND : EXIT.OK;
    }
  }
}
