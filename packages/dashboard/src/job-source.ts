import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { BgError, type JobDefinition, redactText, warnOnce } from '@bg/core';
import { loadJobDefinitions } from './job-module.js';

/** How long a failed load of the job module is answered from memory before it is tried again (ms). */
export const MODULE_RETRY_MS = 5_000;

/** The job definitions as a page gets them: loaded, or why they are not (a message fit for the page). */
export type JobsState =
  | { readonly ok: true; readonly jobs: ReadonlyMap<string, JobDefinition> }
  | { readonly ok: false; readonly problem: string };

/** A path-like word (`/home/u/app/jobs.js`, `file:///…`, `C:\\…`): a page shows its file name only. */
const ABSOLUTE_PATH = /(?:file:\/\/)?(?:[A-Za-z]:\\|\/)[^\s'"`()<>]*/g;

/**
 * The first line of a load failure, secrets masked; for the page (`forPage`), absolute paths are
 * cut to their file name.
 */
function readable(error: unknown, forPage: boolean): string {
  const cause = error instanceof BgError && error.cause !== undefined ? error.cause : error;
  const name = cause instanceof Error ? cause.name : 'Error';
  const message = cause instanceof Error ? cause.message : String(cause);
  let line = message.split('\n')[0] ?? '';
  if (forPage) line = line.replace(ABSOLUTE_PATH, (path) => basename(path.replace(/[\\/]+$/, '')));
  const text = error instanceof BgError && error.cause === undefined ? line : `${name}: ${line}`;
  return redactText(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

/**
 * Checks a `module` option when the dashboard is created: a path that names no file is a
 * configuration error there and then (`INVALID_ARGUMENT`), not a 400 on every page later.
 */
export function checkModulePath(modulePath: unknown): void {
  if (modulePath === undefined) return;
  if (typeof modulePath !== 'string' || modulePath.trim() === '')
    throw new BgError('INVALID_ARGUMENT', 'createDashboard: module must be the path of an ES module file', { retryable: false });
  const path = resolve(modulePath);
  let file = false;
  try {
    file = statSync(path).isFile();
  } catch {
    file = false;
  }
  if (!file)
    throw new BgError(
      'INVALID_ARGUMENT',
      `createDashboard: module ${JSON.stringify(modulePath)} is not a file (looked at ${path})`,
      {
        retryable: false,
      },
    );
}

/**
 * The job definitions of the enqueue form, from `module` and `jobs`. Only the enqueue form needs
 * them: a module that fails to load (deleted, broken by a deploy, throwing) leaves every other
 * page working; the failure is printed once on the server (a bg warning) and the enqueue form
 * says it in one line, without the server's paths. A failed load is tried again at most every
 * {@link MODULE_RETRY_MS}, so a fixed module is picked up without a restart; a loaded one is kept.
 */
export class JobSource {
  readonly #module: string | undefined;
  readonly #extra: readonly JobDefinition[];
  readonly #now: () => number;
  #loaded: ReadonlyMap<string, JobDefinition> | undefined;
  #pending: Promise<JobsState> | undefined;
  #failed: { readonly at: number; readonly problem: string } | undefined;
  #attempts = 0;

  constructor(modulePath: string | undefined, extra: readonly JobDefinition[] = [], now: () => number = Date.now) {
    this.#module = modulePath;
    this.#extra = extra;
    this.#now = now;
  }

  /** The definitions, or why there are none now. Never rejects. */
  get(): Promise<JobsState> {
    if (this.#loaded !== undefined) return Promise.resolve({ ok: true, jobs: this.#loaded });
    if (this.#failed !== undefined && this.#now() - this.#failed.at < MODULE_RETRY_MS)
      return Promise.resolve({ ok: false, problem: this.#failed.problem });
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #load(): Promise<JobsState> {
    try {
      const jobs = await loadJobDefinitions(this.#module, this.#extra, this.#attempts++);
      this.#loaded = jobs;
      this.#failed = undefined;
      return { ok: true, jobs };
    } catch (error) {
      const module = this.#module;
      const what = (name: string | undefined) =>
        name === undefined ? 'the job definitions' : `the job module ${JSON.stringify(name)}`;
      const problem = `${what(module === undefined ? undefined : basename(module))} did not load: ${readable(error, true)}`;
      this.#failed = { at: this.#now(), problem };
      // Once per distinct failure, on the server's stderr (or the application's warning sink).
      warnOnce(
        `dashboard-module:${problem}`,
        `@bg/dashboard: ${what(module)} did not load: ${readable(error, false)}; the enqueue form is unavailable until it loads (tried again on a later visit)`,
      );
      return { ok: false, problem };
    }
  }
}
