import { type Adapter, BgError, connect, redactText, redactUrl } from '@bg/core';
import type { DashboardBackend } from './options.js';

/** Most queues shown per backend. */
export const MAX_QUEUES_PER_BACKEND = 500;

/**
 * One configured backend: opens its adapter on first use (from `url`) and knows its queues.
 * Its label and URL are only ever shown redacted.
 */
export class BackendHandle {
  /** Label for the page, credentials redacted. */
  readonly label: string;
  /** The URL, redacted, when the backend was given by URL. */
  readonly shownUrl: string | undefined;
  readonly #config: DashboardBackend;
  #adapter: Promise<Adapter> | undefined;
  #owned = false;
  #closed = false;

  constructor(config: DashboardBackend) {
    this.#config = config;
    this.label = redactText(config.name);
    this.shownUrl = config.url !== undefined ? redactUrl(config.url) : undefined;
  }

  /** The adapter, connected on first call; `CLOSED` after {@link close}. */
  adapter(): Promise<Adapter> {
    if (this.#closed) return Promise.reject(new BgError('CLOSED', `backend "${this.label}": the dashboard is closed`));
    if (this.#adapter !== undefined) return this.#adapter;
    if (this.#config.adapter) this.#adapter = Promise.resolve(this.#config.adapter);
    else if (this.#config.url !== undefined) {
      this.#owned = true;
      const pending = connect(this.#config.url);
      // A failed connection is retried on the next use.
      pending.catch(() => {
        if (this.#adapter === pending) this.#adapter = undefined;
      });
      this.#adapter = pending;
    } else throw new BgError('INVALID_ARGUMENT', `backend "${this.label}" has neither url nor adapter`);
    return this.#adapter;
  }

  /** The queues to show: configured, else listed by the adapter, else `["default"]`. */
  async queues(): Promise<string[]> {
    if (this.#config.queues && this.#config.queues.length > 0) return [...this.#config.queues];
    const adapter = await this.adapter();
    if (!adapter.listQueues) return ['default'];
    const listed = await adapter.listQueues();
    return listed.slice(0, MAX_QUEUES_PER_BACKEND);
  }

  /** Closes the adapter when the dashboard opened it from a URL. */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#adapter;
    this.#adapter = undefined;
    if (!this.#owned || !pending) return;
    const adapter = await pending.catch(() => undefined);
    await adapter?.close();
  }
}
