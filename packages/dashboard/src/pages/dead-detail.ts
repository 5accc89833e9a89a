import { type DeadLetter, deadLetterType, isSecretName, REDACTED, redactJsonText, redactText } from '@bg/core';
import { instant } from '../format.js';
import { type Html, html } from '../html.js';
import { type PageContext, queuePath } from './context.js';

/**
 * The body pretty-printed when it is JSON, masked value by value ({@link redactJsonText}: a
 * string's line breaks are real there, so `X-Api-Key:` or `DB_PASSWORD=` on a line of their own
 * are found), redacted as text either way. Numbers keep the digits they were stored with: a
 * re-parsed 12345678901234567890 was shown as 12345678901234567000, another order id than the one
 * in the stored bytes.
 */
export function prettyBody(body: string): string {
  return redactText(redactJsonText(body, 2));
}

/** The dead-letter detail page content. */
export function deadDetailPage(ctx: PageContext, backend: number, queue: string, dead: DeadLetter): Html {
  const path = queuePath(ctx, backend, queue);
  const attributes = Object.entries(dead.attributes);
  const error = dead.error;
  return html`<dl class="facts">
<dt>Job id</dt><dd class="mono">${dead.id}</dd>
<dt>Type</dt><dd>${deadLetterType(dead) ?? 'unknown'}</dd>
<dt>Reason</dt><dd><span class="reason">${dead.reason}</span></dd>
<dt>Attempts</dt><dd>${dead.attempts}</dd>
<dt>Enqueued</dt><dd>${instant(dead.enqueuedAt, ctx.now)}</dd>
<dt>Dead-lettered</dt><dd>${instant(dead.deadLetteredAt, ctx.now)}</dd>
</dl>
${
  ctx.readOnly
    ? ''
    : html`<form method="post" action="${path}/dead/action" class="actions">
<input type="hidden" name="_csrf" value="${ctx.csrf}"><input type="hidden" name="id" value="${dead.id}">
<button type="submit" name="op" value="replay-one">Replay</button>
<button type="submit" name="op" value="purge-one" class="danger">Purge</button>
</form>`
}
<section aria-labelledby="h-error"><h2 id="h-error">Last error</h2>
${
  error
    ? html`<p class="error-text">${error.name ? html`<strong>${redactText(error.name)}</strong> ` : ''}${error.code ? html`<code>${redactText(error.code)}</code> ` : ''}${redactText(error.message)}</p>
${error.stack ? html`<details><summary>Stack</summary><pre class="code">${redactText(error.stack)}</pre></details>` : ''}`
    : html`<p class="muted">No error recorded.</p>`
}</section>
<section aria-labelledby="h-envelope"><h2 id="h-envelope">Envelope</h2>
<pre class="code" tabindex="0" aria-label="envelope">${prettyBody(dead.body)}</pre></section>
${
  attributes.length > 0
    ? html`<section aria-labelledby="h-attrs"><h2 id="h-attrs">Attributes</h2><div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>${attributes.map(
        ([k, v]) =>
          html`<tr><th scope="row" class="mono">${k}</th><td class="mono">${isSecretName(k) ? REDACTED : redactText(v)}</td></tr>`,
      )}</tbody></table></div></section>`
    : ''
}
<p><a href="${path}/dead">Back to the dead letters</a></p>`;
}
