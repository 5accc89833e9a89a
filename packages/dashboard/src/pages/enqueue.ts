import type { JobDefinition } from '@bg/core';
import { type Html, html } from '../html.js';
import { type PageContext, queuePath } from './context.js';

/** What the enqueue form shows again after a refused submission. */
export interface EnqueueFields {
  readonly type: string;
  readonly payload: string;
  readonly delay: string;
  readonly key: string;
}

/** The enqueue form, with an error or a success message. */
export function enqueuePage(
  ctx: PageContext,
  backend: number,
  queue: string,
  jobs: ReadonlyMap<string, JobDefinition>,
  state: { readonly fields?: EnqueueFields; readonly error?: string; readonly enqueued?: { id: string; duplicate: boolean } },
): Html {
  const path = queuePath(ctx, backend, queue);
  const f = state.fields ?? { type: '', payload: '{\n  \n}', delay: '', key: '' };
  return html`${state.error ? html`<div class="error" role="alert" id="enqueue-error"><p><strong>Not enqueued:</strong> ${state.error}</p></div>` : ''}
${state.enqueued ? html`<p class="ok" role="status" data-enqueued="${state.enqueued.id}">${state.enqueued.duplicate ? 'Duplicate of job' : 'Enqueued job'} <span class="mono">${state.enqueued.id}</span>.</p>` : ''}
<form method="post" action="${path}/enqueue" class="stack" ${state.error ? html`aria-describedby="enqueue-error"` : ''}>
<input type="hidden" name="_csrf" value="${ctx.csrf}"><input type="hidden" name="_once" value="${ctx.once}">
<div><label for="e-type">Job type</label>
<select id="e-type" name="type" required>${[...jobs.values()].map(
    (j) => html`<option value="${j.type}" ${j.type === f.type ? html`selected` : ''}>${j.type} (v${j.version})</option>`,
  )}</select></div>
<div><label for="e-payload">Payload (JSON, validated by the job's schema)</label>
<textarea id="e-payload" name="payload" rows="8" required spellcheck="false">${f.payload}</textarea></div>
<div><label for="e-delay">Delay (optional)</label><input id="e-delay" name="delay" value="${f.delay}" placeholder="e.g. 30s, 15m" maxlength="10"></div>
<div><label for="e-key">Idempotency key (optional)</label><input id="e-key" name="key" value="${f.key}" maxlength="200" autocomplete="off"></div>
<div><button type="submit">Enqueue</button> <a href="${path}">Cancel</a></div>
</form>`;
}

/** The explanation shown when no job module was given. */
export function enqueueUnavailable(): Html {
  return html`<p>Enqueueing from the dashboard needs the job definitions, to validate payloads with their schemas:
start it with <code>bgctl dashboard URL --module ./dist/jobs.js</code>, or pass <code>module</code> / <code>jobs</code> to <code>createDashboard</code>.</p>`;
}

/** The explanation shown while the job module does not load (`problem`: one line, no server paths). */
export function enqueueFailed(problem: string): Html {
  return html`<div class="error" role="alert"><p>Enqueueing is unavailable: ${problem}.</p>
<p>The other pages work meanwhile; the module is loaded again on a later visit, no restart needed.</p></div>`;
}
