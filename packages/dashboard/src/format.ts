import { type Html, html } from './html.js';

/** A count, or "unknown" (never a made-up 0). */
export function count(value: number | null | undefined): Html {
  return value === null || value === undefined
    ? html`<span class="unknown" title="this backend cannot count it">unknown</span>`
    : html`${value.toLocaleString('en-US')}`;
}

/** "3s", "12m", "5h", "2d" ago. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1_000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}

/** An instant as ISO UTC text with its age, in a `<time>` element. */
export function instant(at: number | undefined, now: number): Html {
  if (at === undefined) return html`<span class="unknown">unknown</span>`;
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time> <span class="muted">(${age(now - at)} ago)</span>`;
}
