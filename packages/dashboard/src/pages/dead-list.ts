import { DEAD_LETTER_REASONS, type DeadLetter, deadLetterType, redactText } from '@bg/core';
import { SCAN_BUDGET, type ScanPage } from '../dead-scan.js';
import { age, count } from '../format.js';
import { type Html, html } from '../html.js';
import { type DeadFilterFields, encodeCursor } from '../input.js';
import { idSegment, type PageContext, queuePath } from './context.js';

/** Hidden inputs carrying the filter into a POST form. */
export function filterInputs(fields: DeadFilterFields): Html {
  return html`${Object.entries(fields).map(([k, v]) => (v ? html`<input type="hidden" name="${k}" value="${v}">` : ''))}`;
}

/** The query string of a filter (for links). */
export function filterQuery(fields: DeadFilterFields, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...fields, ...extra })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function filterForm(ctx: PageContext, path: string, fields: DeadFilterFields, limit: number): Html {
  return html`<form class="filters" method="get" action="${path}/dead" role="search" aria-label="Filter dead letters">
<div><label for="f-reason">Reason</label><select id="f-reason" name="reason"><option value="">any</option>${DEAD_LETTER_REASONS.map(
    (r) => html`<option value="${r}" ${r === fields.reason ? html`selected` : ''}>${r}</option>`,
  )}</select></div>
<div><label for="f-type">Job type</label><input id="f-type" name="type" value="${fields.type}" maxlength="200" autocomplete="off"></div>
<div><label for="f-older">Older than</label><input id="f-older" name="older" value="${fields.older}" placeholder="e.g. 1h" maxlength="10" aria-describedby="age-hint"></div>
<div><label for="f-newer">Newer than</label><input id="f-newer" name="newer" value="${fields.newer}" placeholder="e.g. 7d" maxlength="10" aria-describedby="age-hint"></div>
<div><label for="f-text">Error text</label><input id="f-text" name="text" value="${fields.text}" maxlength="200" autocomplete="off"></div>
<div><label for="f-limit">Per page</label><select id="f-limit" name="limit">${[25, 50, 100, 200].map(
    (n) => html`<option value="${n}" ${n === limit ? html`selected` : ''}>${n}</option>`,
  )}</select></div>
<div class="filter-buttons"><button type="submit">Filter</button> <a href="${path}/dead">Clear</a></div>
<p id="age-hint" class="muted hint">Ages: a number and s, m, h or d (30s, 15m, 2h, 7d). ${ctx.readOnly ? '' : 'Actions below act on the selected rows or on every dead letter matching the filter.'}</p>
</form>`;
}

function errorSummary(dead: DeadLetter): string {
  const message = dead.error ? `${dead.error.code ? `${dead.error.code}: ` : ''}${dead.error.message}` : '';
  const text = redactText(message);
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}

/** The dead-letter list page content. */
export function deadListPage(
  ctx: PageContext,
  backend: number,
  queue: string,
  options: {
    readonly page: ScanPage;
    readonly fields: DeadFilterFields;
    readonly filtered: boolean;
    readonly limit: number;
    readonly deadCount: number | null | undefined;
    readonly firstPage: boolean;
  },
): Html {
  const path = queuePath(ctx, backend, queue);
  const { page, fields, filtered, limit } = options;
  const nextLink = page.next
    ? `${path}/dead${filterQuery(fields, { limit: String(limit), cursor: encodeCursor(page.next) })}`
    : undefined;
  const scope = filtered ? 'matching the filter' : 'in this queue';
  const rows = page.items.map((d, i) => {
    const type = deadLetterType(d);
    return html`<tr>
${ctx.readOnly ? '' : html`<td><input type="checkbox" name="id" value="${d.id}" id="sel-${i}" aria-label="select ${d.id}"></td>`}
<th scope="row"><a class="mono" href="${path}/dead/${idSegment(d.id)}">${d.id}</a></th>
<td>${type ?? html`<span class="unknown">unknown</span>`}</td>
<td><span class="reason">${d.reason}</span></td>
<td class="num">${d.attempts}</td>
<td class="num"><time datetime="${new Date(d.deadLetteredAt).toISOString()}">${age(ctx.now - d.deadLetteredAt)}</time></td>
<td class="err">${errorSummary(d)}</td>
</tr>`;
  });
  const table = html`<div class="scroll"><table class="dead">
<caption class="sr-only">Dead letters of ${queue}</caption>
<thead><tr>${ctx.readOnly ? '' : html`<th scope="col"><input type="checkbox" data-select-all aria-label="select all on this page"></th>`}<th scope="col">Id</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">Age</th><th scope="col">Error</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
  const status = html`<p class="muted" role="status">${page.items.length} shown${options.firstPage ? '' : ' (later page)'} · ${count(options.deadCount)} dead letters in the queue${
    filtered ? html` · filtered while paging: ${page.scanned.toLocaleString('en-US')} read for this page` : ''
  }${page.budgetHit ? html` · <strong>stopped after reading ${SCAN_BUDGET.toLocaleString('en-US')}</strong>; "Next" scans on` : ''}</p>`;
  const pager = html`<nav class="pager" aria-label="Pages">${options.firstPage ? '' : html`<a href="${path}/dead${filterQuery(fields, { limit: String(limit) })}">First page</a>`}
${nextLink ? html`<a href="${nextLink}" rel="next">Next page</a>` : html`<span class="muted">End of the dead letters.</span>`}</nav>`;
  const actions = ctx.readOnly
    ? ''
    : html`<div class="bulk" role="group" aria-label="Actions">
<button type="submit" name="op" value="replay-selected">Replay selected</button>
<button type="submit" name="op" value="purge-selected" class="danger">Purge selected</button>
<button type="submit" name="op" value="replay-filtered">Replay all ${scope}</button>
<button type="submit" name="op" value="purge-filtered" class="danger">Purge all ${scope}</button>
</div>`;
  const body =
    page.items.length === 0
      ? html`<p class="empty">No dead letters ${filtered ? 'match this filter on this stretch' : 'here'}.</p>`
      : ctx.readOnly
        ? table
        : html`<form method="post" action="${path}/dead/action"><input type="hidden" name="_csrf" value="${ctx.csrf}">${filterInputs(fields)}${actions}${table}</form>`;
  return html`${filterForm(ctx, path, fields, limit)}${status}${body}${pager}`;
}
