import type { Envelope } from './envelope.js';
import type { LazyAbort } from './held-delivery.js';
import type { JobDefinition } from './job.js';

/** What a handler gets besides its payload. */
export interface JobContext {
  /** The job id (stable across retries, hops and replays). */
  readonly jobId: string;
  readonly jobType: string;
  /** 1 on the first attempt; crashes count too. */
  readonly attempt: number;
  /** The job's `maxAttempts`. */
  readonly maxAttempts: number;
  /**
   * Aborts when the worker stops, the lease is lost or the job's timeout passes; its
   * `reason` is a BgError (`CLOSED`, `LEASE_LOST` or `TIMEOUT`). Pass it to fetch & co.
   */
  readonly signal: AbortSignal;
  /** Payload version the job was enqueued with (before migration). */
  readonly enqueuedVersion: number;
  readonly createdAt: Date;
  readonly idempotencyKey: string | undefined;
  readonly meta: Readonly<Record<string, string>>;
  readonly trace: { readonly traceparent: string; readonly tracestate?: string } | undefined;
}

const NO_META: Readonly<Record<string, string>> = Object.freeze({});

/** The context handed to a handler; the Date and the signal are made only when asked for. */
export class RunContext implements JobContext {
  readonly jobId: string;
  readonly jobType: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly enqueuedVersion: number;
  readonly idempotencyKey: string | undefined;
  readonly trace: JobContext['trace'];
  readonly #envelope: Envelope;
  readonly #controller: LazyAbort;
  constructor(envelope: Envelope, job: JobDefinition, attempt: number, controller: LazyAbort) {
    this.jobId = envelope.id;
    this.jobType = job.type;
    this.attempt = attempt;
    this.maxAttempts = job.retry.maxAttempts;
    this.enqueuedVersion = envelope.v;
    this.idempotencyKey = envelope.key;
    this.trace = envelope.trace;
    this.#envelope = envelope;
    this.#controller = controller;
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  get createdAt(): Date {
    return new Date(this.#envelope.createdAt);
  }
  get meta(): Readonly<Record<string, string>> {
    return this.#envelope.meta ?? NO_META;
  }
}
