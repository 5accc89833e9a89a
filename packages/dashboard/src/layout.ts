import { type Html, html } from './html.js';

/** What every page needs around its content. */
export interface PageFrame {
  /** Mount path, no trailing slash (`""` at the root). */
  readonly base: string;
  readonly title: string;
  readonly readOnly: boolean;
  /** Breadcrumb links before the title: [label, href]. */
  readonly crumbs?: readonly (readonly [string, string])[];
}

/** The full HTML document of a page: header, breadcrumbs, main content. No inline script or style. */
export function layout(frame: PageFrame, content: Html): string {
  const crumbs = frame.crumbs ?? [];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${frame.title} · bg dashboard</title>
<link rel="stylesheet" href="${frame.base}/assets/dashboard.css">
<script src="${frame.base}/assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="${frame.base}/">bg dashboard</a>
${frame.readOnly ? html`<span class="badge" title="mutations are disabled">read-only</span>` : ''}
</header>
<nav aria-label="Breadcrumb" class="crumbs"><ol>
<li><a href="${frame.base}/">Queues</a></li>
${crumbs.map(([label, href]) => html`<li><a href="${href}">${label}</a></li>`)}
</ol></nav>
<main id="main" tabindex="-1">
<h1>${frame.title}</h1>
${content}
</main>
</body>
</html>
`.value;
}
