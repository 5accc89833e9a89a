import type { IncomingMessage } from 'node:http';
import type { Adapter, JobDefinition } from '@bg/core';

/** One backend shown by the dashboard: a connection URL, or an adapter you opened yourself. */
export interface DashboardBackend {
  /** Label shown on the page (credentials in it are redacted). */
  readonly name: string;
  /** Backend URL, opened with `connect()` of `@bg/core` on first use and closed by `close()`. */
  readonly url?: string;
  /** An open adapter (you close it). Takes precedence over `url`. */
  readonly adapter?: Adapter;
  /**
   * Queues to show. Default: the adapter's `listQueues()` when it has one, else `["default"]`.
   */
  readonly queues?: readonly string[];
}

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The backends to show, at least one. */
  readonly backends: readonly DashboardBackend[];
  /** Hide and refuse every mutation (replay, purge, enqueue). */
  readonly readOnly?: boolean;
  /**
   * Access token. When set, every request needs it: `Authorization: Bearer <token>`, or the
   * cookie set by opening any page once with `?token=<token>`. Without a token (and without
   * `auth`) only loopback clients are served.
   */
  readonly token?: string;
  /**
   * Your own access check when the dashboard is mounted in an app (session, SSO …): resolve
   * `true` to serve the request, `false` to answer 403. Replaces the loopback-only rule; a
   * `token`, when also set, is still required.
   */
  readonly auth?: (req: IncomingMessage) => boolean | Promise<boolean>;
  /** Path of an ES module exporting job definitions: enables the enqueue form, validated by their schemas. */
  readonly module?: string;
  /** Job definitions for the enqueue form (instead of, or beside, `module`). */
  readonly jobs?: readonly JobDefinition[];
  /**
   * The path the handler is mounted at (e.g. `"/bg"`), when the framework passes the full URL
   * (node:http, Fastify, Hono). Express's `app.use('/bg', …)` is detected from `req.baseUrl`.
   */
  readonly basePath?: string;
  /** How often the one shared poller reads every queue's counts, ms (default 5 000; from 2 000 to 86 400 000, a day). */
  readonly sampleIntervalMs?: number;
  /** Samples kept per queue for the charts (default 180; 10 … 2 000). */
  readonly historySize?: number;
  /** The poller stops after this long without a viewer, ms (default 60 000; 0 or more, `Infinity`: never). */
  readonly idleStopMs?: number;
}

/** Shortest sampling interval the poller accepts, ms. */
export const MIN_SAMPLE_INTERVAL_MS = 2_000;
/** Longest sampling interval the poller accepts, ms (a day). */
export const MAX_SAMPLE_INTERVAL_MS = 86_400_000;
