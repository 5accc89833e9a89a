import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { type Adapter, BgError, createQueue, isBgError, isDeadLetterFilterActive, redactText, type WorkerEvent } from '@bg/core';
import { accessDecision, FORWARDING_HEADERS, parseCookies, sameSecret, type TokenPresented } from './access.js';
import { BackendHandle } from './backend-handle.js';
import { CsrfGuard } from './csrf.js';
import { parseAction, runAction } from './dead-actions.js';
import { actionScope, scanDeadLetters } from './dead-scan.js';
import { type Html, html } from './html.js';
import { BodyTooLarge, readBody, securityHeaders, send } from './http-io.js';
import { badInput, decodeCursor, parseAge, parseDeadFilter, parseForm, parseJobId, parseLimit, parseQueueName } from './input.js';
import { checkModulePath, JobSource } from './job-source.js';
import { layout } from './layout.js';
import { type DashboardOptions, MAX_SAMPLE_INTERVAL_MS, MIN_SAMPLE_INTERVAL_MS } from './options.js';
import type { PageContext } from './pages/context.js';
import { queuePath } from './pages/context.js';
import { type ActionResult, confirmPage, resultPage } from './pages/dead-action.js';
import { deadDetailPage } from './pages/dead-detail.js';
import { deadListPage } from './pages/dead-list.js';
import { type EnqueueFields, enqueueFailed, enqueuePage, enqueueUnavailable } from './pages/enqueue.js';
import { type BackendView, overviewPage, overviewTables } from './pages/overview.js';
import { queueLive, queuePage } from './pages/queue.js';
import { Poller } from './poller.js';
import { RESULT_TTL_MS, ResultStore } from './result-store.js';
import { SubmitOnce } from './submit-once.js';

/** What a mutation's POST leaves for the page its redirect shows. */
type MutationResult =
  | { readonly kind: 'action'; readonly backend: number; readonly queue: string; readonly result: ActionResult }
  | {
      readonly kind: 'enqueue';
      readonly backend: number;
      readonly queue: string;
      readonly fields: EnqueueFields;
      readonly enqueued: { readonly id: string; readonly duplicate: boolean };
    };

/** A mountable request handler plus the dashboard's lifecycle. */
export interface Dashboard {
  /** Serves a request; calls `next()` (when given) for paths it does not know. */
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /**
   * A worker `onEvent` callback feeding the throughput chart of `queue` on the backend named
   * `backend` (its `name`), for workers running in the same process as the dashboard.
   */
  workerEvents(backend: string, queue: string): (event: WorkerEvent) => void;
  /** Stops the poller and closes the adapters the dashboard opened from URLs. */
  close(): Promise<void>;
}

/** The host of an `Origin` header; `undefined` for one that is not a URL (then refused). */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
const ASSETS: Readonly<Record<string, string>> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};
const HTML_TYPE = 'text/html; charset=utf-8';
/** How long a `?token=` login lasts (12 hours), in seconds: the login cookie's Max-Age, checked here too. */
export const LOGIN_TTL_S = 12 * 60 * 60;

function configError(message: string): BgError {
  return new BgError('INVALID_ARGUMENT', message, { retryable: false });
}

function checkOptions(options: DashboardOptions): void {
  if (!Array.isArray(options.backends) || options.backends.length === 0)
    throw configError('createDashboard: give at least one backend ({ name, url } or { name, adapter })');
  const names = new Set<string>();
  for (const b of options.backends) {
    if (typeof b.name !== 'string' || b.name.trim() === '') throw configError('createDashboard: every backend needs a name');
    if (names.has(b.name)) throw configError(`createDashboard: two backends are named "${redactText(b.name)}"`);
    names.add(b.name);
    if (!b.adapter && typeof b.url !== 'string')
      throw configError(`createDashboard: backend "${redactText(b.name)}" needs a url or an adapter`);
    for (const q of b.queues ?? []) parseQueueName(q);
  }
  checkModulePath(options.module);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 12))
    throw configError('createDashboard: token must be a string of at least 12 characters');
  const interval = options.sampleIntervalMs;
  // At most a day: a timer cannot wait longer than 2³¹ − 1 ms (it would fire every millisecond).
  if (
    interval !== undefined &&
    (!Number.isFinite(interval) || interval < MIN_SAMPLE_INTERVAL_MS || interval > MAX_SAMPLE_INTERVAL_MS)
  )
    throw configError(
      `createDashboard: sampleIntervalMs must be from ${MIN_SAMPLE_INTERVAL_MS} to ${MAX_SAMPLE_INTERVAL_MS}, got ${interval}`,
    );
  const history = options.historySize;
  if (history !== undefined && (!Number.isInteger(history) || history < 10 || history > 2_000))
    throw configError(`createDashboard: historySize must be an integer from 10 to 2000, got ${history}`);
  const idle = options.idleStopMs;
  // A negative (or NaN) idle time stopped the poller before its first round: every page waited forever.
  if (idle !== undefined && (typeof idle !== 'number' || Number.isNaN(idle) || idle < 0))
    throw configError(`createDashboard: idleStopMs must be 0 or more (Infinity: never stop), got ${idle}`);
}

/** Status of an error thrown while serving a request. */
function statusOf(error: unknown): number {
  if (error instanceof BodyTooLarge) return 413;
  if (!isBgError(error)) return 500;
  switch (error.code) {
    case 'INVALID_ARGUMENT':
    case 'INVALID_PAYLOAD':
    case 'PAYLOAD_TOO_LARGE':
    case 'DELAY_TOO_LONG':
      return 400;
    case 'QUEUE_NOT_FOUND':
      return 404;
    case 'UNSUPPORTED':
      return 501;
    default:
      return 502;
  }
}

/**
 * Creates the bg dashboard: a plain Node request handler serving server-rendered pages (no
 * build step, no framework), mountable in node:http, Express, Fastify or Hono.
 *
 * Pages: every queue of every backend with its counts and capabilities; counts and throughput
 * over time (one shared poller per dashboard); dead letters with filters, cursor paging,
 * detail, replay and purge with confirmation; an enqueue form validated by your job schemas.
 * Mutations are CSRF-protected POSTs; without a `token` or `auth` hook only loopback clients
 * are served. Credentials of backends never reach the page.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createDashboard } from '@bg/dashboard';
 *
 * const dashboard = createDashboard({ backends: [{ name: 'redis', url: process.env.BG_URL! }] });
 * createServer(dashboard).listen(7070, '127.0.0.1');
 * ```
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  checkOptions(options);
  const backends = options.backends.map((b) => new BackendHandle(b));
  const readOnly = options.readOnly === true;
  const intervalMs = options.sampleIntervalMs ?? 5_000;
  const poller = new Poller(backends, {
    intervalMs,
    historySize: options.historySize ?? 180,
    idleStopMs: options.idleStopMs ?? 60_000,
  });
  const csrf = new CsrfGuard();
  // The session cookie is this dashboard's own: cookies reach every port of a host, and a second
  // dashboard on it replaced the first one's session (its forms then failed their CSRF check).
  const SESSION_COOKIE = `bg_dash_sid_${randomBytes(6).toString('base64url')}`;
  let closed = false;
  const results = new ResultStore<MutationResult>();
  const submits = new SubmitOnce();
  /** The kept result `id` of this session, when it is one of `kind` for this queue. */
  function keptResult<K extends MutationResult['kind']>(
    kind: K,
    session: string,
    id: string | null,
    backend: number,
    queue: string,
  ): Extract<MutationResult, { kind: K }> | undefined {
    const kept = results.get(session, id);
    return kept?.kind === kind && kept.backend === backend && kept.queue === queue
      ? (kept as Extract<MutationResult, { kind: K }>)
      : undefined;
  }
  /** Keeps the result of a mutation and answers its POST with a redirect to it (Post/Redirect/Get); returns its id. */
  function seeResult(res: ServerResponse, session: string, path: string, value: MutationResult): string {
    const id = results.put(session, value);
    redirectToResult(res, path, id);
    return id;
  }
  function redirectToResult(res: ServerResponse, path: string, id: string): void {
    send(res, 303, '', 'text/plain; charset=utf-8', { Location: `${path}?result=${id}` });
  }
  /** Runs a mutation once per form; a form sent again is redirected to the first one's result. */
  async function once(
    res: ServerResponse,
    session: string,
    form: URLSearchParams,
    path: string,
    act: () => Promise<string | undefined>,
  ): Promise<void> {
    const outcome = await submits.run(session, form.get('_once'), act);
    if ('again' in outcome) redirectToResult(res, path, outcome.again);
  }
  const expiredResult = (what: string): string =>
    `the result of this ${what} is no longer kept (results are kept ${RESULT_TTL_MS / 60_000} minutes, for the browser session that made them)`;
  const token = options.token;
  // The cookie holds a value derived from the token, never the token itself (a cookie reaches
  // every port of the host), under a name of this token's own (two dashboards on one host, each
  // with its token, do not overwrite each other's login).
  const derived = (purpose: string): string =>
    createHmac('sha256', token ?? '')
      .update(`bg-dashboard:${purpose}`)
      .digest('base64url');
  const tokenCookie = token === undefined ? 'bg_dash_token' : `bg_dash_${derived('cookie-name').slice(0, 10)}`;
  // The login cookie's value says when it was issued, under a MAC of the token: it ends after
  // LOGIN_TTL_S here as in the browser (a copy of a constant value worked for ever).
  const loginValue = (issuedS: number): string => `${issuedS}.${derived(`cookie-value:${issuedS}`)}`;
  const validLogin = (value: string): boolean => {
    const m = /^(\d{1,12})\.[A-Za-z0-9_-]{43}$/.exec(value);
    if (!m) return false;
    const issuedS = Number(m[1]);
    const age = Date.now() / 1_000 - issuedS;
    return age >= -60 && age < LOGIN_TTL_S && sameSecret(value, loginValue(issuedS));
  };
  const jobSource = new JobSource(options.module, options.jobs ?? []);
  // Loaded now, so that a module that does not import is reported when the dashboard starts.
  if (options.module !== undefined) void jobSource.get();
  const assetCache = new Map<string, Buffer>();

  async function asset(name: string): Promise<Buffer> {
    const cached = assetCache.get(name);
    if (cached) return cached;
    const data = await readFile(new URL(`../assets/${name}`, import.meta.url));
    assetCache.set(name, data);
    return data;
  }

  /** Whether a proxy in front says the client's connection is https (the first hop it names). */
  function forwardedHttps(headers: IncomingMessage['headers']): boolean {
    const proto = headers['x-forwarded-proto'];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
    if (first === 'https') return true;
    const forwarded = headers.forwarded?.split(',')[0] ?? '';
    return /(?:^|;)\s*proto="?https"?\s*(?:;|$)/i.test(forwarded);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void> {
    securityHeaders(res);
    const base = (options.basePath ?? (req as { baseUrl?: string }).baseUrl ?? '').replace(/\/+$/, '');
    // After close() a request must not open the backends again (nobody would close them).
    if (closed) return errorPage(res, base, 503, 'this dashboard is closed');
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    let path = url.pathname;
    if (options.basePath && path.startsWith(base)) path = path.slice(base.length);
    if (path === '') path = '/';
    const cookies = parseCookies(req.headers.cookie);
    // Secure over TLS, Node's own or a proxy's in front (it says so in X-Forwarded-Proto or
    // Forwarded). Adding Secure is safe whoever sends the header: a browser then only keeps the
    // cookie for https, never sends it in clear.
    const secure = (req.socket as TLSSocket).encrypted === true || forwardedHttps(req.headers);
    const cookieAttrs = `; Path=${base || '/'}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    // Lax: a link to the dashboard from another site (an alert, a wiki) keeps the login; every
    // mutation still needs the session's CSRF value (its cookie is Strict) and a same-origin POST.
    const tokenCookieAttrs = `; Path=${base || '/'}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
    const method = req.method ?? 'GET';

    // Access: token (header, cookie, or ?token= once), then the auth hook or the loopback rule.
    let presented: TokenPresented = 'none';
    const queryToken = url.searchParams.get('token');
    if (token !== undefined) {
      const auth = req.headers.authorization;
      const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (queryToken ?? undefined);
      const cookie = cookies.get(tokenCookie);
      if (given !== undefined) presented = sameSecret(given, token) ? 'valid' : 'invalid';
      // An ended or altered login cookie is no login: the answer says to open ?token= again.
      else if (cookie !== undefined && validLogin(cookie)) presented = 'valid';
    }
    const decision = accessDecision({
      remoteAddress: req.socket.remoteAddress,
      host: req.headers.host,
      tokenConfigured: token !== undefined,
      token: presented,
      hasAuthHook: options.auth !== undefined,
      proxied: FORWARDING_HEADERS.some((name) => req.headers[name] !== undefined),
    });
    if (decision.kind === 'deny') return errorPage(res, base, decision.status, decision.message);
    if (decision.kind === 'ask-hook' && !(await options.auth?.(req)))
      return errorPage(res, base, 403, 'access denied by the auth hook of this dashboard');
    if (token !== undefined && queryToken !== null && method === 'GET') {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      // One leading slash: "//evil.example/x" would send the browser to another site.
      const location = `${base}${path.replace(/^\/+/, '/')}${url.search}`;
      // A login starts a fresh session: a session cookie planted before it is not kept.
      res.setHeader('Set-Cookie', [
        `${tokenCookie}=${loginValue(Math.floor(Date.now() / 1_000))}${tokenCookieAttrs}; Max-Age=${LOGIN_TTL_S}`,
        `${SESSION_COOKIE}=${csrf.newSession()}${cookieAttrs}`,
      ]);
      return send(res, 303, '', 'text/plain; charset=utf-8', { Location: location });
    }

    const assetMatch = /^\/assets\/([a-z.]+)$/.exec(path);
    if (assetMatch && method === 'GET') return serveAsset(res, assetMatch[1] ?? '');

    // Only ids this dashboard issued: one chosen by the client, or planted by another site of the
    // host (cookies are shared across ports), would let whoever chose it read this session's results.
    let session = cookies.get(SESSION_COOKIE);
    if (!csrf.issued(session)) {
      session = csrf.newSession();
      res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${session}${cookieAttrs}`);
    }
    const ctx: PageContext = {
      base,
      readOnly,
      csrf: csrf.tokenFor(session),
      once: submits.newValue(),
      refreshMs: intervalMs,
      now: Date.now(),
    };

    let form: URLSearchParams | undefined;
    if (method === 'POST') {
      if (readOnly) return errorPage(res, base, 403, 'this dashboard is read-only: replay, purge and enqueue are disabled');
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== 'null' && originHost(origin) !== req.headers.host)
        return errorPage(res, base, 403, 'cross-origin form submission refused');
      form = parseForm(req.headers['content-type'], await readBody(req));
      if (!csrf.check(cookies.get(SESSION_COOKIE), form.get('_csrf') ?? undefined))
        return errorPage(res, base, 403, 'missing or wrong CSRF value: reload the page and try again');
    } else if (method !== 'GET' && method !== 'HEAD') {
      return send(res, 405, 'method not allowed', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD, POST' });
    }

    await poller.touch();
    if (path === '/' || path === '/live') {
      if (form) return methodNotAllowed(res);
      const views = await backendViews();
      if (path === '/live') return send(res, 200, overviewTables(ctx, views).value, HTML_TYPE);
      return page(res, 200, ctx, 'Queues', overviewPage(ctx, views));
    }
    const m = /^\/b\/(\d{1,4})\/q\/([^/]+)(\/live|\/enqueue|\/dead(?:\/action|\/[^/]+)?)?$/.exec(path);
    if (!m) {
      if (next) return next();
      return errorPage(res, base, 404, `no such page: ${path.slice(0, 100)}`);
    }
    const index = Number(m[1]);
    const handle = backends[index];
    if (!handle) return errorPage(res, base, 404, `no backend #${index}`);
    const queue = parseQueueName(safeDecode(m[2] ?? ''));
    const adapter = await handle.adapter();
    if (adapter.queueExists && !(await adapter.queueExists(queue)))
      return errorPage(res, base, 404, `queue "${queue}" does not exist on ${handle.label}`);
    const sub = m[3] ?? '';
    const crumbs: [string, string][] = [[`${handle.label} / ${queue}`, queuePath(ctx, index, queue)]];
    const samples = await poller.viewed(index, queue);

    if (sub === '' || sub === '/live') {
      if (form) return methodNotAllowed(res);
      if (sub === '/live') return send(res, 200, queueLive(samples).value, HTML_TYPE);
      // Only the enqueue link depends on the job definitions: a module failing to load hides it.
      const defs = await jobSource.get();
      const canEnqueue = defs.ok && defs.jobs.size > 0;
      return page(res, 200, ctx, `Queue ${queue}`, queuePage(ctx, index, queue, samples, canEnqueue), [
        [handle.label, `${base}/#backend-${index}`],
      ]);
    }
    if (sub === '/enqueue') return enqueue(res, ctx, session, url, index, queue, adapter, form, crumbs);
    if (sub === '/dead') {
      if (form) return methodNotAllowed(res);
      const { filter, fields } = parseDeadFilter(url.searchParams);
      const limit = parseLimit(url.searchParams.get('limit'));
      const cursor = decodeCursor(url.searchParams.get('cursor'));
      const scanned = await scanDeadLetters(adapter, queue, filter, { cursor, limit, now: ctx.now });
      const content = deadListPage(ctx, index, queue, {
        page: scanned,
        fields,
        filtered: isDeadLetterFilterActive(filter),
        limit,
        deadCount: samples.at(-1)?.dead,
        firstPage: url.searchParams.get('cursor') === null,
      });
      return page(res, 200, ctx, `Dead letters of ${queue}`, content, crumbs);
    }
    // GET /dead/action without ?result= is the dead letter whose id is "action".
    if (sub === '/dead/action' && (form || url.searchParams.has('result'))) {
      if (!form) {
        const kept = keptResult('action', session, url.searchParams.get('result'), index, queue);
        if (!kept) return errorPage(res, base, 404, expiredResult('action'));
        const verb = kept.result.action;
        return page(res, 200, ctx, `Result: ${verb}`, resultPage(ctx, index, queue, kept.result), crumbs);
      }
      const request = parseAction(form);
      if (form.get('confirm') !== 'yes') {
        const scope =
          request.scope === 'filtered' ? await actionScope(adapter, queue, parseDeadFilter(form).filter, ctx.now) : undefined;
        const content = confirmPage(ctx, index, queue, request, scope);
        return page(res, 200, ctx, `Confirm: ${request.action}`, content, crumbs);
      }
      // A reload of the result page, or the form sent twice, must not act again (on whatever matches by then).
      const resultPath = `${queuePath(ctx, index, queue)}/dead/action`;
      return once(res, session, form, resultPath, async () => {
        const result = await runAction(adapter, queue, request, ctx.now);
        await poller.refreshQueue(index, queue);
        return seeResult(res, session, resultPath, { kind: 'action', backend: index, queue, result });
      });
    }
    // /dead/:id
    if (form) return methodNotAllowed(res);
    const id = parseJobId(safeDecode(sub.slice('/dead/'.length)));
    const dead = await adapter.getDeadLetter(queue, id);
    if (!dead) return errorPage(res, base, 404, `no dead letter ${id} in ${queue} (replayed or purged already?)`);
    crumbs.push(['Dead letters', `${queuePath(ctx, index, queue)}/dead`]);
    return page(res, 200, ctx, `Dead letter ${id}`, deadDetailPage(ctx, index, queue, dead), crumbs);
  }

  async function backendViews(): Promise<BackendView[]> {
    return Promise.all(
      backends.map(async (handle, index) => {
        const adapter = await handle.adapter().catch(() => undefined);
        const state = poller.state(index);
        return {
          index,
          handle,
          ...(adapter ? { adapterName: adapter.name, capabilities: adapter.capabilities } : {}),
          ...(state ? { state } : {}),
          latest: (queue: string) => poller.history(index, queue).at(-1),
        };
      }),
    );
  }

  async function enqueue(
    res: ServerResponse,
    ctx: PageContext,
    session: string,
    url: URL,
    index: number,
    queue: string,
    adapter: Adapter,
    form: URLSearchParams | undefined,
    crumbs: [string, string][],
  ): Promise<void> {
    const title = `Enqueue on ${queue}`;
    const state = await jobSource.get();
    if (!state.ok) return page(res, 503, ctx, title, enqueueFailed(state.problem), crumbs);
    const defs = state.jobs;
    if (defs.size === 0) return page(res, form ? 400 : 200, ctx, title, enqueueUnavailable(), crumbs);
    if (readOnly) return errorPage(res, ctx.base, 403, 'this dashboard is read-only');
    if (!form) {
      if (!url.searchParams.has('result')) return page(res, 200, ctx, title, enqueuePage(ctx, index, queue, defs, {}), crumbs);
      const kept = keptResult('enqueue', session, url.searchParams.get('result'), index, queue);
      if (!kept) return errorPage(res, ctx.base, 404, expiredResult('enqueue'));
      return page(
        res,
        200,
        ctx,
        title,
        enqueuePage(ctx, index, queue, defs, { fields: kept.fields, enqueued: kept.enqueued }),
        crumbs,
      );
    }
    // A reload of the result page, or the form sent twice (a double click), must not enqueue again.
    const resultPath = `${queuePath(ctx, index, queue)}/enqueue`;
    return once(res, session, form, resultPath, async () => {
      const fields: EnqueueFields = {
        type: form.get('type') ?? '',
        payload: form.get('payload') ?? '',
        delay: form.get('delay') ?? '',
        key: form.get('key') ?? '',
      };
      const refuse = (message: string): undefined => {
        page(res, 400, ctx, title, enqueuePage(ctx, index, queue, defs, { fields, error: message }), crumbs);
        return undefined;
      };
      const def = defs.get(fields.type);
      if (!def)
        return refuse(`type: "${fields.type.slice(0, 60)}" is not a job type of the module (${[...defs.keys()].join(', ')})`);
      let payload: unknown;
      try {
        payload = JSON.parse(fields.payload);
      } catch (error) {
        return refuse(`payload: not JSON (${(error as Error).message})`);
      }
      let delayMs: number | undefined;
      try {
        delayMs = parseAge(fields.delay, 'delay');
      } catch (error) {
        return refuse((error as Error).message);
      }
      if (fields.key.length > 200) return refuse('idempotency key: at most 200 characters');
      try {
        const jobsQueue = createQueue({ adapter, queue, missingQueue: adapter.queueExists ? 'fail' : 'create' });
        const result = await jobsQueue.enqueue(def, payload as never, {
          ...(delayMs !== undefined ? { delayMs } : {}),
          ...(fields.key ? { idempotencyKey: fields.key } : {}),
        });
        await poller.refreshQueue(index, queue);
        return seeResult(res, session, resultPath, {
          kind: 'enqueue',
          backend: index,
          queue,
          fields,
          enqueued: { id: result.id, duplicate: result.duplicate },
        });
      } catch (error) {
        if (statusOf(error) === 400)
          return refuse(redactText(isBgError(error) ? `${error.code}: ${error.message}` : String(error)));
        throw error;
      }
    });
  }

  async function serveAsset(res: ServerResponse, name: string): Promise<void> {
    const type = ASSETS[name];
    if (!type) return send(res, 404, 'not found', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'public, max-age=300');
    return send(res, 200, await asset(name), type);
  }

  function page(
    res: ServerResponse,
    status: number,
    ctx: PageContext,
    title: string,
    content: Html,
    crumbs: readonly (readonly [string, string])[] = [],
  ): void {
    send(res, status, layout({ base: ctx.base, title, readOnly, crumbs }, content), HTML_TYPE);
  }

  function errorPage(res: ServerResponse, base: string, status: number, message: string): void {
    const title =
      status === 400
        ? 'Bad request'
        : status === 401
          ? 'Access token needed'
          : status === 403
            ? 'Forbidden'
            : status === 404
              ? 'Not found'
              : 'Error';
    const body = layout({ base, title, readOnly }, html`<p class="error" role="alert" data-status="${status}">${message}</p>`);
    send(res, status, body, HTML_TYPE);
  }

  function methodNotAllowed(res: ServerResponse, allow = 'GET'): void {
    send(res, 405, 'method not allowed', 'text/plain; charset=utf-8', { Allow: allow });
  }

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    serve(req, res, next).catch((error: unknown) => {
      const status = statusOf(error);
      const message = redactText(
        status === 413
          ? 'request body too large (1 MiB at most)'
          : isBgError(error)
            ? `${error.code}: ${error.message}`
            : error instanceof Error
              ? error.message
              : String(error),
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const base = (options.basePath ?? (req as { baseUrl?: string }).baseUrl ?? '').replace(/\/+$/, '');
      try {
        errorPage(res, base, status, status >= 500 ? `backend or server error: ${message}` : message);
      } catch {
        res.destroy();
      }
    });
  }) as Dashboard;

  handler.workerEvents = (backendName: string, queue: string) => {
    const index = options.backends.findIndex((b) => b.name === backendName);
    if (index < 0) throw configError(`workerEvents: no backend named "${redactText(backendName)}"`);
    parseQueueName(queue);
    return (event: WorkerEvent) => poller.recordEvent(index, queue, event);
  };
  handler.close = async () => {
    closed = true;
    await poller.close();
    await Promise.all(backends.map((b) => b.close()));
  };
  return handler;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw badInput(`not a valid URL component: ${text.slice(0, 60)}`);
  }
}
