import { type Adapter, isBgError, isDeadLetterFilterActive, redactText, replayDeadLetter } from '@bg/core';
import type { DeadLetterPosition } from '@bg/core/adapter';
import { matchingIds } from './dead-scan.js';
import { badInput, decodeCursor, parseDeadFilter, parseJobId } from './input.js';
import { type ActionRequest, type ActionResult, type DeadAction, type DeadScope, SHOWN_FAILURES } from './pages/dead-action.js';

const ACTION_CONCURRENCY = 8;
const PURGE_CHUNK = 500;
const MAX_SELECTED = 1_000;

/** Reads and checks the fields of a dead-letter action form (its op, ids, filter and `upto`). */
export function parseAction(form: URLSearchParams): ActionRequest {
  const op = form.get('op') ?? '';
  const m = /^(replay|purge)-(one|selected|filtered)$/.exec(op);
  if (!m) throw badInput(`op: "${op.slice(0, 40)}" is not an action (replay|purge)-(one|selected|filtered)`);
  const action = m[1] as DeadAction;
  const scope = m[2] as DeadScope;
  const ids = [...new Set(form.getAll('id').map((id) => parseJobId(id)))];
  if (scope === 'one' && ids.length !== 1) throw badInput(`${action} one: give exactly one id, got ${ids.length}`);
  if (scope === 'selected' && ids.length === 0) throw badInput(`${action} selected: select at least one dead letter`);
  if (ids.length > MAX_SELECTED) throw badInput(`at most ${MAX_SELECTED} selected dead letters at once, got ${ids.length}`);
  const { filter, fields } = parseDeadFilter(form);
  const upto = parseUpto(form.get('upto'));
  return {
    action,
    scope,
    ids: scope === 'filtered' ? [] : ids,
    fields,
    filtered: isDeadLetterFilterActive(filter),
    ...(upto !== undefined && scope === 'filtered' ? { upto } : {}),
  };
}

/** The `upto` of a confirmation form: `none` (the store was empty), or a position from {@link encodeCursor}. */
function parseUpto(value: string | null): DeadLetterPosition | null | undefined {
  if (value === null) return undefined;
  if (value === 'none') return null;
  let after: DeadLetterPosition | undefined;
  try {
    after = decodeCursor(value).after;
  } catch {
    after = undefined;
  }
  if (after === undefined) throw badInput('upto: not a position of this dashboard (reload the dead letters and try again)');
  return after;
}

/**
 * Replays or purges what `request` names: its ids, or every dead letter matching its filter (up
 * to its `upto`, when the confirmation gave one), and sums up what happened.
 */
export async function runAction(adapter: Adapter, queue: string, request: ActionRequest, now: number): Promise<ActionResult> {
  const { filter } = parseDeadFilter(new URLSearchParams(Object.entries(request.fields)));
  if (request.action === 'purge' && request.scope === 'filtered' && !request.filtered && request.upto === undefined) {
    const done = await adapter.purgeDeadLetters(queue);
    return { action: 'purge', requested: done, done, missing: 0, failedCount: 0, failed: [], truncated: false };
  }
  let ids = request.ids;
  let truncated = false;
  if (request.scope === 'filtered' && request.upto !== null)
    ({ ids, truncated } = await matchingIds(adapter, queue, filter, now, request.upto));
  if (request.action === 'purge') {
    let done = 0;
    for (let i = 0; i < ids.length; i += PURGE_CHUNK)
      done += await adapter.purgeDeadLetters(queue, ids.slice(i, i + PURGE_CHUNK));
    return { action: 'purge', requested: ids.length, done, missing: ids.length - done, failedCount: 0, failed: [], truncated };
  }
  let done = 0;
  let missing = 0;
  const failed: { id: string; message: string }[] = [];
  let failedCount = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      try {
        if (await replayDeadLetter(adapter, queue, id)) done++;
        else missing++;
      } catch (error) {
        // The result is kept in memory for its page: the first failures only (a replay of 100 000
        // during an outage would keep 100 000 messages per result).
        if (++failedCount <= SHOWN_FAILURES)
          failed.push({ id, message: redactText(isBgError(error) ? `${error.code}: ${error.message}` : String(error)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ACTION_CONCURRENCY, ids.length) }, lane));
  return { action: 'replay', requested: ids.length, done, missing, failedCount, failed, truncated };
}
