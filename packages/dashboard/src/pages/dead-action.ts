import type { DeadLetterPosition } from '@bg/core/adapter';
import type { ActionScope } from '../dead-scan.js';
import { type Html, html } from '../html.js';
import { type DeadFilterFields, encodeCursor } from '../input.js';
import { idSegment, type PageContext, queuePath } from './context.js';
import { filterInputs, filterQuery } from './dead-list.js';

/** replay or purge. */
export type DeadAction = 'replay' | 'purge';
/** What a dead-letter action acts on. */
export type DeadScope = 'one' | 'selected' | 'filtered';

/** A parsed action request. */
export interface ActionRequest {
  readonly action: DeadAction;
  readonly scope: DeadScope;
  readonly ids: readonly string[];
  readonly fields: DeadFilterFields;
  readonly filtered: boolean;
  /**
   * For a confirmed "filtered" action: the newest dead letter when it was confirmed (`null`: there
   * were none); it acts on none after it. Absent: on every one matching when it runs.
   */
  readonly upto?: DeadLetterPosition | null;
}

/** The outcome of an action. */
export interface ActionResult {
  readonly action: DeadAction;
  /** Dead letters the action was meant for (when known before acting). */
  readonly requested: number;
  /** Dead letters replayed or purged. */
  readonly done: number;
  /** Dead letters that were no longer there. */
  readonly missing: number;
  /** How many failed. */
  readonly failedCount: number;
  /** The first ids that failed (at most {@link SHOWN_FAILURES}: the result is kept in memory), with the (redacted) reason. */
  readonly failed: readonly { readonly id: string; readonly message: string }[];
  /** The id list was cut at its maximum: run the action again for the rest. */
  readonly truncated: boolean;
}

const SHOWN_IDS = 50;
/** Failures an {@link ActionResult} keeps (and its page shows). */
export const SHOWN_FAILURES = SHOWN_IDS;

function what(request: ActionRequest, scope: ActionScope | undefined): string {
  if (request.scope === 'one') return `dead letter ${request.ids[0]}`;
  if (request.scope === 'selected') return `the ${request.ids.length} selected dead letter(s)`;
  const n = scope === undefined ? '' : `${scope.truncated ? 'first ' : ''}${scope.matching.toLocaleString('en-US')} `;
  if (request.filtered) return `the ${n}dead letter(s) matching the filter`;
  return `all ${n}dead letter(s) of this queue`;
}

/**
 * The confirmation step of an action. A "filtered" one names the number counted by `scope` and
 * carries where the store ended (`upto`): the confirmed action acts on none that came later.
 */
export function confirmPage(
  ctx: PageContext,
  backend: number,
  queue: string,
  request: ActionRequest,
  scope: ActionScope | undefined,
): Html {
  const path = queuePath(ctx, backend, queue);
  const verb = request.action === 'replay' ? 'Replay' : 'Purge';
  const consequence =
    request.action === 'replay'
      ? 'They go back to the live queue with their job id kept and attempts reset; workers will run them again.'
      : 'They are deleted for good. This cannot be undone.';
  return html`<p class="lead">${verb} ${what(request, scope)} in <strong>${queue}</strong>?</p>
<p>${consequence}</p>
${
  request.filtered && request.scope === 'filtered'
    ? html`<p class="muted">Filter: ${Object.entries(request.fields)
        .filter(([, v]) => v)
        .map(([k, v]) => `${k} = ${v}`)
        .join(', ')}. The whole dead-letter store is scanned to find them.</p>`
    : ''
}
${request.scope === 'filtered' ? html`<p class="muted">${scope?.counted === 'backend' ? 'Counted by the backend. ' : ''}Dead letters that arrive after this confirmation are left alone${scope !== undefined && scope.later > 0 ? html`, and so are the <span data-later="${scope.later}">${scope.later}</span> dated after it (written by a worker whose clock runs ahead)` : ''}.</p>` : ''}
${request.ids.length > 0 ? html`<ul class="ids">${request.ids.slice(0, SHOWN_IDS).map((id) => html`<li class="mono">${id}</li>`)}${request.ids.length > SHOWN_IDS ? html`<li>… and ${request.ids.length - SHOWN_IDS} more</li>` : ''}</ul>` : ''}
<form method="post" action="${path}/dead/action" class="actions">
<input type="hidden" name="_csrf" value="${ctx.csrf}"><input type="hidden" name="_once" value="${ctx.once}">
<input type="hidden" name="op" value="${request.action}-${request.scope}">
<input type="hidden" name="confirm" value="yes">
${request.ids.map((id) => html`<input type="hidden" name="id" value="${id}">`)}
${filterInputs(request.fields)}
${scope !== undefined ? html`<input type="hidden" name="upto" value="${scope.upto === null ? 'none' : encodeCursor({ after: scope.upto })}">` : ''}
<button type="submit" class="${request.action === 'purge' ? 'danger' : ''}" autofocus>Yes, ${verb.toLowerCase()}</button>
<a class="button secondary" href="${request.scope === 'one' ? `${path}/dead/${idSegment(request.ids[0] ?? '')}` : `${path}/dead${filterQuery(request.fields)}`}">Cancel</a>
</form>`;
}

/** The result summary of an action. */
export function resultPage(ctx: PageContext, backend: number, queue: string, result: ActionResult): Html {
  const path = queuePath(ctx, backend, queue);
  const verb = result.action === 'replay' ? 'replayed' : 'purged';
  return html`<p class="lead" role="status" data-result="${verb}">${verb[0]?.toUpperCase()}${verb.slice(1)} ${result.done} of ${result.requested} dead letter(s) on <strong>${queue}</strong>.</p>
${result.missing > 0 ? html`<p>${result.missing} were already gone (replayed or purged by someone else).</p>` : ''}
${result.failedCount > 0 ? html`<div class="error" role="alert"><p>${result.failedCount} failed${result.failedCount > result.failed.length ? ` (the first ${result.failed.length} shown)` : ''}:</p><ul>${result.failed.map((f) => html`<li><span class="mono">${f.id}</span>: ${f.message}</li>`)}</ul></div>` : ''}
${result.truncated ? html`<p class="error">Stopped after ${result.requested.toLocaleString('en-US')}; run it again for the rest.</p>` : ''}
<p><a href="${path}/dead">Back to the dead letters</a> · <a href="${path}">Queue</a></p>`;
}
