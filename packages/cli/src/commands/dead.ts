import {
  type Adapter,
  type DeadLetter,
  type DeadLetterFilter,
  deadLetterType,
  decodeEnvelope,
  isDeadLetterFilterActive,
  redactJsonText,
  redactJsonValue,
  redactText,
  redactUrl,
  replayDeadLetter,
} from '@bg/core';
import { backendUrl, intOption, parse, singleQueue } from '../args.js';
import { withBackend } from '../backend.js';
import { confirmOrRefuse } from '../confirm.js';
import { type CommandContext, printHelp, printJson } from '../context.js';
import { findDeadLetters, parseReasons } from '../dead-filter.js';
import { formatDuration, parseDuration } from '../duration.js';
import { errorSummary } from '../error-summary.js';
import { CliFailure, EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { echo, printable, printableLine } from '../printable.js';
import { progressBar } from '../progress.js';
import { renderTable, truncate } from '../table.js';

/** Replays of more than this many jobs ask for confirmation (unless `--yes`). */
export const REPLAY_CONFIRM_ABOVE = 10;
/** Dead letters replayed at once by `bgctl dead replay` (one at a time on backends that keep an order). */
const REPLAY_CONCURRENCY = 8;

const OPTIONS = {
  queue: { type: 'string' },
  reason: { type: 'string', multiple: true },
  type: { type: 'string', multiple: true },
  'older-than': { type: 'string' },
  'newer-than': { type: 'string' },
  limit: { type: 'string' },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
} as const;

function summary(dead: DeadLetter, now: number): Record<string, unknown> {
  return {
    id: dead.id,
    type: deadLetterType(dead) ?? null,
    reason: dead.reason,
    attempts: dead.attempts,
    deadLetteredAt: new Date(dead.deadLetteredAt).toISOString(),
    ...(dead.enqueuedAt !== undefined ? { enqueuedAt: new Date(dead.enqueuedAt).toISOString() } : {}),
    ageMs: now - dead.deadLetteredAt,
    ...(dead.error ? { error: dead.error } : {}),
  };
}

function table(items: readonly DeadLetter[], now: number): string {
  return renderTable(
    ['ID', 'TYPE', 'REASON', 'ATTEMPTS', 'AGE', 'ERROR'],
    items.map((d) => [
      d.id,
      deadLetterType(d) ?? '?',
      d.reason,
      String(d.attempts),
      formatDuration(now - d.deadLetteredAt),
      // Redacted before it is cut: a password cut short no longer reads as one (its start was shown).
      truncate(redactText(d.error?.message ?? ''), 60),
    ]),
  );
}

/** `bgctl dead list|show|replay|purge URL …` */
export async function deadCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, OPTIONS);
  const action = positionals.shift();
  if (values.help || action === undefined || action === 'help') {
    const asked = values.help || action === 'help';
    printHelp(ctx, HELP.dead, asked ? 'out' : 'err');
    return asked ? EXIT.OK : EXIT.USAGE;
  }
  if (!['list', 'show', 'replay', 'purge'].includes(action)) {
    throw new UsageError(`unknown dead-letter action "${action}"; use list, show, replay or purge`);
  }
  const url = backendUrl(positionals, ctx.io.env);
  const queue = singleQueue(values.queue);
  const ids = positionals;
  const filter: DeadLetterFilter = {
    ids,
    reasons: parseReasons(values.reason ?? []),
    types: values.type ?? [],
    ...(values['older-than'] !== undefined ? { olderThanMs: parseDuration(values['older-than'], '--older-than') } : {}),
    ...(values['newer-than'] !== undefined ? { newerThanMs: parseDuration(values['newer-than'], '--newer-than') } : {}),
  };
  const limit = intOption(values.limit, 'limit');
  return withBackend(url, async (adapter) => {
    const now = Date.now();
    switch (action) {
      case 'list': {
        const shown = limit ?? 50;
        const { items, notFound, more } = await findDeadLetters(adapter, queue, filter, { limit: shown, now });
        if (values.json)
          printJson(ctx, {
            backend: redactUrl(url),
            queue,
            items: items.map((d) => ({ ...summary(d, now), attributes: d.attributes, body: redactJsonText(d.body) })),
            more,
            ...(notFound.length > 0 ? { notFound } : {}),
          });
        else if (items.length === 0)
          ctx.io.out(`no dead letters on ${queue}${isDeadLetterFilterActive(filter) ? ' match' : ''}\n`);
        else ctx.io.out(table(items, now));
        // A list cut at --limit says so: the oldest `shown` are not all of them.
        if (more && !values.json)
          ctx.io.err(`more dead letters match: these are the oldest ${shown} (--limit n shows more, --newer-than narrows)\n`);
        // Ids asked for by name that are not there: named, exit 4 (as replay and purge do).
        if (notFound.length === 0) return EXIT.OK;
        if (!values.json) ctx.io.err(`no dead letter ${notFound.map((id) => echo(id, 60)).join(', ')} on ${queue}\n`);
        return EXIT.NOT_FOUND;
      }
      case 'show':
        return show(adapter, ctx, queue, ids, Boolean(values.json), now);
      default:
        return mutate(adapter, ctx, {
          action,
          queue,
          filter,
          all: Boolean(values.all),
          dryRun: Boolean(values['dry-run']),
          yes: values.yes,
          json: Boolean(values.json),
          now,
          limit,
        });
    }
  });
}

async function show(
  adapter: Adapter,
  ctx: CommandContext,
  queue: string,
  ids: readonly string[],
  json: boolean,
  now: number,
): Promise<ExitCode> {
  if (ids.length !== 1) throw new UsageError('usage: bgctl dead show URL ID');
  const id = ids[0] as string;
  const dead = await adapter.getDeadLetter(queue, id);
  if (!dead) throw new CliFailure(EXIT.NOT_FOUND, `no dead letter ${echo(id)} on queue ${queue}`);
  let envelope: unknown;
  try {
    envelope = decodeEnvelope(dead.body);
  } catch {
    envelope = undefined;
  }
  if (json) {
    printJson(ctx, {
      ...summary(dead, now),
      attributes: dead.attributes,
      body: redactJsonText(dead.body),
      ...(envelope ? { envelope } : {}),
    });
    return EXIT.OK;
  }
  // One-line fields stay on their line (a type holding "\n" made up a line of its own).
  const line = printableLine;
  const type = deadLetterType(dead);
  const lines = [
    `id:        ${line(dead.id)}`,
    `type:      ${type === undefined ? '? (not a bg envelope)' : line(type)}`,
    `reason:    ${line(dead.reason)}`,
    `attempts:  ${dead.attempts}`,
    `dead at:   ${new Date(dead.deadLetteredAt).toISOString()} (${formatDuration(now - dead.deadLetteredAt)} ago)`,
    ...(dead.enqueuedAt !== undefined ? [`enqueued:  ${new Date(dead.enqueuedAt).toISOString()}`] : []),
    ...(dead.error
      ? [
          `error:     ${dead.error.name ? `${line(dead.error.name)}: ` : ''}${dead.error.message}${dead.error.code ? ` [${line(dead.error.code)}]` : ''}`,
        ]
      : []),
    // Masked value by value before they are written out (see redactJsonValue): in JSON text a
    // string's line breaks are \n, and a secret-named list or object is not one string.
    `attributes: ${JSON.stringify(redactJsonValue(dead.attributes))}`,
    envelope ? `envelope:\n${JSON.stringify(redactJsonValue(envelope), null, 2)}` : `body:\n${redactJsonText(dead.body)}`,
    ...(dead.error?.stack ? [`stack:\n${dead.error.stack}`] : []),
  ];
  // Every field comes from job data: no escape sequence reaches the terminal.
  ctx.io.out(`${printable(lines.join('\n'))}\n`);
  return EXIT.OK;
}

interface MutateOptions {
  readonly action: string;
  readonly queue: string;
  readonly filter: DeadLetterFilter;
  readonly all: boolean;
  readonly dryRun: boolean;
  readonly yes: boolean | undefined;
  readonly json: boolean;
  readonly now: number;
  /** At most this many (`--limit`); all that match when absent. */
  readonly limit: number | undefined;
}

async function mutate(adapter: Adapter, ctx: CommandContext, o: MutateOptions): Promise<ExitCode> {
  if (!isDeadLetterFilterActive(o.filter) && !o.all) {
    throw new UsageError(`bgctl dead ${o.action} needs ids, a filter (--reason, --type, --older-than, --newer-than) or --all`);
  }
  const found = await findDeadLetters(adapter, o.queue, o.filter, {
    now: o.now,
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  });
  const selected = found.items;
  const verb = o.action === 'replay' ? 'replay' : 'purge';
  // Ids asked for by name that do not exist: said, and exit 4 (a typo must not look like
  // success), whatever the other filters and the limit.
  const unknown = found.notFound;
  const notFound = (): ExitCode => {
    if (unknown.length === 0) return EXIT.OK;
    if (!o.json) ctx.io.err(`no dead letter ${unknown.map((id) => echo(id, 60)).join(', ')} on ${o.queue}\n`);
    return EXIT.NOT_FOUND;
  };
  /** Selected, then gone before they were replayed (another replay or purge): a partial replay is not a success. */
  const gone = (missing: readonly string[]): ExitCode => {
    if (missing.length === 0) return notFound();
    if (!o.json) {
      ctx.io.err(
        `gone since they were listed (replayed or purged by someone else?): ${missing.map((id) => echo(id, 60)).join(', ')}\n`,
      );
    }
    notFound();
    return EXIT.NOT_FOUND;
  };
  if (o.dryRun || selected.length === 0) {
    if (o.json)
      printJson(ctx, {
        action: verb,
        dryRun: o.dryRun,
        queue: o.queue,
        count: selected.length,
        more: found.more,
        items: selected.map((d) => summary(d, o.now)),
        ...(unknown.length > 0 ? { notFound: unknown } : {}),
      });
    else {
      ctx.io.out(
        `${o.dryRun ? 'would' : 'nothing to'} ${verb} ${selected.length} dead letter(s) on ${o.queue}${found.more ? ` (the oldest ${selected.length}: --limit leaves more that match)` : ''}\n`,
      );
      if (selected.length > 0) ctx.io.out(table(selected, o.now));
    }
    return notFound();
  }
  const ask = verb === 'purge' || selected.length > REPLAY_CONFIRM_ABOVE;
  if (ask) await confirmOrRefuse(ctx, `${verb} ${selected.length} dead letter(s) on ${o.queue}?`, o.yes);
  const bar = progressBar(ctx.io, verb === 'replay' ? 'replaying' : 'purging', selected.length);
  let done = 0;
  const missing: string[] = [];
  /** A failure half-way (the backend went away): what was done is said first, then the error. */
  let failure: unknown;
  try {
    if (verb === 'replay') {
      // Several at a time (each replay is a round trip or two); one at a time, oldest first,
      // where the backend keeps an order (an ordering key's jobs come back in turn). The first
      // failure stops every lane after the replay in its hands.
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < selected.length && failure === undefined && !ctx.signal.aborted) {
          const dead = selected[next++] as DeadLetter;
          try {
            if (await replayDeadLetter(adapter, o.queue, dead)) done++;
            else missing.push(dead.id);
          } catch (error) {
            failure ??= error;
          }
          bar.update(done + missing.length);
        }
      };
      const lanes = adapter.capabilities.ordering ? 1 : REPLAY_CONCURRENCY;
      await Promise.all(Array.from({ length: Math.min(lanes, selected.length) }, lane));
    } else {
      const chunk = 100;
      for (let i = 0; i < selected.length; i += chunk) {
        if (ctx.signal.aborted) break;
        done += await adapter.purgeDeadLetters(
          o.queue,
          selected.slice(i, i + chunk).map((d) => d.id),
        );
        bar.update(Math.min(selected.length, i + chunk));
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    bar.done();
  }
  const interrupted = ctx.signal.aborted;
  const past = verb === 'replay' ? 'replayed' : 'purged';
  if (o.json)
    printJson(ctx, {
      action: verb,
      queue: o.queue,
      count: done,
      selected: selected.length,
      ...(missing.length ? { missing } : {}),
      ...(unknown.length > 0 ? { notFound: unknown } : {}),
      interrupted,
      ...(failure !== undefined ? { error: errorSummary(failure) } : {}),
    });
  else
    ctx.io.out(
      `${past} ${done} of ${selected.length} dead letter(s) on ${o.queue}${interrupted ? ' (interrupted: rerun to continue)' : ''}${failure !== undefined ? ' before it failed (rerun to continue)' : ''}\n`,
    );
  if (failure !== undefined) throw failure;
  return interrupted ? EXIT.INTERRUPTED : gone(missing);
}
