import { countSeries, lineChart, throughputSeries } from '../chart.js';
import { count } from '../format.js';
import { type Html, html, raw } from '../html.js';
import type { Sample } from '../poller.js';
import { type PageContext, queuePath } from './context.js';

function legend(items: readonly [string, string][]): Html {
  return html`<ul class="legend">${items.map(([label, cls]) => html`<li><span class="swatch ${cls}" aria-hidden="true"></span>${label}</li>`)}</ul>`;
}

/** Counts and charts of one queue (the live region of the queue page). */
export function queueLive(samples: readonly Sample[]): Html {
  const last = samples.at(-1);
  const times = samples.map((s) => s.at);
  const counts = countSeries(samples);
  const tp = throughputSeries(samples);
  return html`<dl class="cards">
<div><dt>Ready</dt><dd data-count="ready">${count(last?.ready)}</dd></div>
<div><dt>In flight</dt><dd data-count="inFlight">${count(last?.inFlight)}</dd></div>
<div><dt>Delayed</dt><dd data-count="delayed">${count(last?.delayed)}</dd></div>
<div><dt>Dead</dt><dd data-count="dead">${count(last?.dead)}</dd></div>
</dl>
${last?.total !== undefined && last.total !== null ? html`<p class="muted">≈ ${last.total} live jobs in all (ready, in flight and delayed cannot be told apart on this backend).</p>` : ''}
<section class="chart-box" aria-labelledby="chart-counts"><h2 id="chart-counts">Counts over time</h2>
${raw(lineChart('Counts over time', times, counts))}
${legend(counts.map((s) => [s.label, s.cls]))}</section>
<section class="chart-box" aria-labelledby="chart-tp"><h2 id="chart-tp">${tp.title}</h2>
${raw(lineChart(tp.title, tp.times, tp.series))}
${legend(tp.series.map((s) => [s.label, s.cls]))}</section>`;
}

/** The queue page content. */
export function queuePage(
  ctx: PageContext,
  backend: number,
  queue: string,
  samples: readonly Sample[],
  canEnqueue: boolean,
): Html {
  const path = queuePath(ctx, backend, queue);
  return html`<p class="actions"><a class="button" href="${path}/dead">Dead letters</a>
${canEnqueue && !ctx.readOnly ? html`<a class="button" href="${path}/enqueue">Enqueue a job</a>` : ''}</p>
<div data-live="${path}/live" data-interval="${ctx.refreshMs}">${queueLive(samples)}</div>
<p class="muted">Sampled every ${Math.round(ctx.refreshMs / 1_000)} s while someone watches; history is kept in this dashboard's memory only.</p>`;
}
