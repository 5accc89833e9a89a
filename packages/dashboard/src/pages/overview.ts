import type { Capabilities } from '@bg/core';
import type { BackendHandle } from '../backend-handle.js';
import { count } from '../format.js';
import { type Html, html } from '../html.js';
import type { BackendState, Sample } from '../poller.js';
import { type PageContext, queuePath } from './context.js';

/** One backend as the overview shows it. */
export interface BackendView {
  readonly index: number;
  readonly handle: BackendHandle;
  readonly adapterName?: string;
  readonly capabilities?: Capabilities;
  readonly state?: BackendState;
  readonly latest: (queue: string) => Sample | undefined;
}

function capabilityList(c: Capabilities): Html {
  const ms = (v: number): string =>
    v === 0 ? 'none' : v >= 86_400_000 ? `${v / 86_400_000} d` : v >= 60_000 ? `${v / 60_000} min` : `${v / 1_000} s`;
  const rows: [string, string][] = [
    ['max payload', `${Math.round(c.maxPayloadBytes / 1024)} KiB`],
    ['max delay (native)', ms(c.maxDelayMs)],
    ['lease', `${ms(c.minLeaseMs)} – ${ms(c.maxLeaseMs)}`],
    ['max batch', String(c.maxBatchSize)],
    ['native delivery count', c.nativeDeliveryCount ? 'yes' : 'no'],
    ['native dead-letter', c.nativeDeadLetter ? 'yes' : 'no'],
    ['ordering', c.ordering ? 'yes' : 'no'],
    ['deduplication', c.deduplication ? 'yes' : 'no'],
    ['durable', c.durable ? 'yes' : 'no'],
  ];
  return html`<details class="caps"><summary>Capabilities</summary><dl>${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></details>`;
}

/** The queue tables of every backend (the live region of the overview). */
export function overviewTables(ctx: PageContext, backends: readonly BackendView[]): Html {
  return html`${backends.map((b) => {
    const queues = b.state?.queues ?? [];
    return html`<section class="backend" aria-labelledby="backend-${b.index}">
<h2 id="backend-${b.index}">${b.handle.label} ${b.adapterName ? html`<span class="tag">${b.adapterName}</span>` : ''}</h2>
${b.handle.shownUrl && b.handle.shownUrl !== b.handle.label ? html`<p class="muted url">${b.handle.shownUrl}</p>` : ''}
${b.state?.error ? html`<p class="error" role="alert">Last poll failed: ${b.state.error}</p>` : ''}
${b.capabilities ? capabilityList(b.capabilities) : ''}
${
  queues.length === 0
    ? html`<p class="muted">No queues found.</p>`
    : html`<div class="scroll"><table class="counts">
<caption class="sr-only">Queues of ${b.handle.label}</caption>
<thead><tr><th scope="col">Queue</th><th scope="col" class="num">Ready</th><th scope="col" class="num">In flight</th><th scope="col" class="num">Delayed</th><th scope="col" class="num">Dead</th></tr></thead>
<tbody>${queues.map((q) => {
        const s = b.latest(q);
        const path = queuePath(ctx, b.index, q);
        return html`<tr data-queue="${q}">
<th scope="row"><a href="${path}">${q}</a></th>
<td class="num" data-count="ready">${count(s?.ready)}</td>
<td class="num" data-count="inFlight">${count(s?.inFlight)}</td>
<td class="num" data-count="delayed">${count(s?.delayed)}</td>
<td class="num" data-count="dead"><a href="${path}/dead" aria-label="dead letters of ${q}">${count(s?.dead)}</a></td>
</tr>${s?.total !== undefined && s.total !== null ? html`<tr class="sub"><td colspan="5">≈ ${s.total.toLocaleString('en-US')} live jobs in all (the backend cannot split them)</td></tr>` : ''}`;
      })}</tbody></table></div>`
}
</section>`;
  })}`;
}

/** The overview page content. */
export function overviewPage(ctx: PageContext, backends: readonly BackendView[]): Html {
  return html`<p class="muted">Counts are sampled by one shared poller every ${Math.round(ctx.refreshMs / 1_000)} s; "unknown" means the backend cannot count it.</p>
<div data-live="${ctx.base}/live" data-interval="${ctx.refreshMs}">${overviewTables(ctx, backends)}</div>`;
}
