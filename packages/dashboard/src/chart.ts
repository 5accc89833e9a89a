import { escapeHtml } from './html.js';
import type { Sample } from './poller.js';

/** One line of a chart. */
export interface Series {
  readonly label: string;
  /** CSS class giving the line its colour (`s-ready`, `s-dead` …). */
  readonly cls: string;
  /** One value per point; `null` leaves a gap (unknown). */
  readonly values: readonly (number | null)[];
}

const W = 600;
const H = 160;
const PAD_LEFT = 44;
const PAD_BOTTOM = 18;

function formatNumber(n: number): string {
  if (Math.abs(n) >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (Math.abs(n) >= 10_000) return `${Math.round(n / 1_000)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above `v` (a round axis maximum). */
export function niceCeil(v: number): number {
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= v) return m * pow;
  return 10 * pow;
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

/**
 * An inline SVG line chart (no script, no inline style: colours come from CSS classes).
 * `times` are the epoch-ms instants of the points. Unknown values break the line.
 */
export function lineChart(title: string, times: readonly number[], series: readonly Series[]): string {
  const known = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const summary = series
    .map((s) => {
      const last = s.values.at(-1);
      return `${s.label} ${last === null || last === undefined ? 'unknown' : formatNumber(last)}`;
    })
    .join(', ');
  const label = `${title}: ${times.length < 2 ? 'collecting samples' : `last ${summary}`}`;
  if (times.length < 2 || known.length === 0) {
    return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted-text">collecting samples…</text></svg>`;
  }
  const max = niceCeil(Math.max(...known, 1));
  const low = Math.min(...known, 0);
  const min = low < 0 ? -niceCeil(-low) : 0;
  const t0 = times[0] as number;
  const t1 = times.at(-1) as number;
  const x = (t: number): number => PAD_LEFT + ((t - t0) / Math.max(t1 - t0, 1)) * (W - PAD_LEFT - 4);
  const y = (v: number): number => 4 + (1 - (v - min) / (max - min)) * (H - PAD_BOTTOM - 8);
  const lines = series.map((s) => {
    const segments: string[] = [];
    let current: string[] = [];
    s.values.forEach((v, i) => {
      if (v === null) {
        if (current.length > 0) segments.push(current.join(' '));
        current = [];
        return;
      }
      current.push(`${x(times[i] as number).toFixed(1)},${y(v).toFixed(1)}`);
    });
    if (current.length > 0) segments.push(current.join(' '));
    return segments
      .map((points) =>
        points.includes(' ')
          ? `<polyline class="line ${s.cls}" fill="none" points="${points}"/>`
          : `<circle class="dot ${s.cls}" r="2.5" cx="${points.split(',')[0]}" cy="${points.split(',')[1]}"/>`,
      )
      .join('');
  });
  const grid = [max, (max + min) / 2, min]
    .map(
      (v) =>
        `<line class="grid" x1="${PAD_LEFT}" x2="${W}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${PAD_LEFT - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(formatNumber(v))}</text>`,
    )
    .join('');
  const axis = `<text class="axis" x="${PAD_LEFT}" y="${H - 4}">${clock(t0)}</text><text class="axis" x="${W - 2}" y="${H - 4}" text-anchor="end">${clock(t1)} UTC</text>`;
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${grid}${axis}${lines.join('')}</svg>`;
}

/** The count series of a queue's samples. */
export function countSeries(samples: readonly Sample[]): Series[] {
  return [
    { label: 'ready', cls: 's-ready', values: samples.map((s) => s.ready) },
    { label: 'in flight', cls: 's-inflight', values: samples.map((s) => s.inFlight) },
    { label: 'delayed', cls: 's-delayed', values: samples.map((s) => s.delayed) },
    { label: 'dead', cls: 's-dead', values: samples.map((s) => s.dead) },
  ];
}

function backlog(s: Sample): number | null {
  if (s.ready !== null && s.inFlight !== null && s.delayed !== null) return s.ready + s.inFlight + s.delayed;
  return s.total ?? null;
}

/**
 * Throughput per second between samples: completed and failed jobs when a worker reports its
 * events to the dashboard, else the change of the backlog (negative while workers drain it).
 */
export function throughputSeries(samples: readonly Sample[]): { title: string; times: number[]; series: Series[] } {
  const fromEvents = samples.some((s) => s.succeeded !== undefined);
  const times: number[] = [];
  const a: (number | null)[] = [];
  const b: (number | null)[] = [];
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1] as Sample;
    const cur = samples[i] as Sample;
    const seconds = Math.max((cur.at - prev.at) / 1_000, 0.001);
    times.push(cur.at);
    if (fromEvents) {
      a.push(cur.succeeded === undefined ? 0 : cur.succeeded / seconds);
      b.push(cur.failed === undefined ? 0 : cur.failed / seconds);
    } else {
      const p = backlog(prev);
      const c = backlog(cur);
      a.push(p === null || c === null ? null : (c - p) / seconds);
      const pd = prev.dead;
      const cd = cur.dead;
      b.push(pd === null || cd === null ? null : (cd - pd) / seconds);
    }
  }
  return fromEvents
    ? {
        title: 'Throughput (jobs/s, from worker events)',
        times,
        series: [
          { label: 'completed/s', cls: 's-ready', values: a },
          { label: 'failed/s', cls: 's-dead', values: b },
        ],
      }
    : {
        title: 'Backlog change (jobs/s, from counts)',
        times,
        series: [
          { label: 'backlog Δ/s', cls: 's-ready', values: a },
          { label: 'dead Δ/s', cls: 's-dead', values: b },
        ],
      };
}
