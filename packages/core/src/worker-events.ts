import type { DeadLetterReason, ErrorInfo } from './adapter.js';
import type { HandedBack, LeftToLease } from './stop-report.js';

/**
 * What the worker decided to do with a delivery, carried by the event that reports it done
 * (`succeeded`, `retried`, `dead-lettered`, `deferred`), for instrumentation:
 * `ack`; `retry` after `delayMs`; `dead-letter` for `reason`; `hop` (early: re-sent natively
 * delayed or parked with a release for `delayMs`); `re-send` (due after parks: sent again as
 * a new message for a fresh delivery count); `defer` (unknown newer version: released for
 * `delayMs`); `hand-back` (released at once because the worker stops).
 */
export interface WorkerDecision {
  readonly kind: 'ack' | 'retry' | 'dead-letter' | 'hop' | 're-send' | 'defer' | 'hand-back';
  /** How long the job waits before its next delivery (release or native delay), for `retry`, `hop`, `defer`, `hand-back`, `re-send`. */
  readonly delayMs?: number;
  /** Why it was dead-lettered, for `dead-letter`. */
  readonly reason?: DeadLetterReason;
}

/** Something that happened to a job in a worker. */
export type WorkerEvent =
  | { readonly type: 'received'; readonly jobId: string; readonly deliveryCount: number }
  | { readonly type: 'started'; readonly jobId: string; readonly jobType: string; readonly attempt: number }
  | {
      readonly type: 'succeeded';
      readonly jobId: string;
      readonly jobType: string;
      readonly attempt: number;
      readonly durationMs: number;
      readonly decision: WorkerDecision;
    }
  | {
      readonly type: 'failed';
      readonly jobId: string;
      readonly jobType: string;
      readonly attempt: number;
      readonly durationMs: number;
      readonly error: ErrorInfo;
    }
  | {
      readonly type: 'retried';
      readonly jobId: string;
      readonly jobType: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly decision: WorkerDecision;
    }
  | {
      readonly type: 'dead-lettered';
      readonly jobId: string;
      readonly jobType: string | undefined;
      readonly attempt: number;
      readonly reason: DeadLetterReason;
      readonly error?: ErrorInfo;
      readonly decision: WorkerDecision;
    }
  | { readonly type: 'lease-lost'; readonly jobId: string; readonly jobType: string | undefined }
  | { readonly type: 'lease-extended'; readonly jobId: string; readonly jobType: string | undefined }
  | {
      readonly type: 'deferred';
      readonly jobId: string;
      /**
       * `not-before`: delivered before its delay ended (hopped or parked); `fresh-count`: due
       * after parks or unknown-version deferrals (or, without native delays, due at all), re-sent
       * as a new message so that they do not count as attempts; `unknown-version`: a payload
       * version newer than this worker knows (re-sent marked the first time, else released);
       * `shutdown`: handed back because the worker stops (released, or re-sent when its handler
       * never ran; the stop's report says which and why).
       */
      readonly why: 'not-before' | 'fresh-count' | 'unknown-version' | 'shutdown';
      /**
       * The delivery count of the delivery it reports: a re-sent job's new message may be
       * received before this event, so the job id alone does not tell the two apart.
       */
      readonly deliveryCount: number;
      readonly delayMs: number;
      readonly decision: WorkerDecision;
      /**
       * How long its handler ran, when it ran: a handler that threw after the stop aborted its
       * signal (`shutdown`, decision `hand-back`). Absent for deliveries whose handler never ran.
       */
      readonly durationMs?: number;
    }
  | {
      /**
       * The handler of a delivery this worker had already let go returned or threw: its lease was
       * lost (`why: 'lease-lost'`: a `lease-lost` event came first, or the ack of a handler that
       * returned found the lease gone), it was handed back at the end of a stop's grace period
       * (`shutdown`: a `deferred` event came first, and the stop may have resolved since), or
       * its ack failed otherwise (`not-settled`: an `error` event with its `jobId` came first).
       * Nothing is acked, retried or dead-lettered for that run: the job's other delivery
       * decides. This event is the only one with the run's duration and how it ended.
       */
      readonly type: 'finished';
      readonly jobId: string;
      readonly jobType: string;
      readonly attempt: number;
      readonly durationMs: number;
      readonly why: 'lease-lost' | 'shutdown' | 'not-settled';
      /** `returned` (resolved) or `threw` (threw, rejected or timed out: see `error`). */
      readonly result: 'returned' | 'threw';
      /** What it threw, when `result` is `threw`. */
      readonly error?: ErrorInfo;
    }
  | {
      /**
       * A stop ended (its report, also `worker.lastStop` once `worker.stop()` resolves): the
       * deliveries it handed back (ids, why, how) and those left in storage to their lease.
       */
      readonly type: 'stopped';
      readonly handedBack: readonly HandedBack[];
      readonly leftToLease: readonly LeftToLease[];
    }
  | {
      readonly type: 'error';
      readonly error: ErrorInfo;
      /**
       * What failed: `receive`, `lease extension`, `handling job <id>`, `release of <id> on stop`,
       * `re-send of <id> on stop` (the job was sent again, but its old delivery could not be
       * removed: it comes back once its lease runs out, a duplicate), `settling job <id> on stop`
       * (its ack, retry or dead letter was still pending when the stop ended),
       * `instrumentation runHandler` (ignored: the handler's own result decides) …
       */
      readonly during: string;
      /**
       * Set when the failure ended the worker's hold on this job's delivery (its ack, retry, dead
       * letter or hand-back failed, or its settling threw): the job stays in storage and is
       * delivered again. Absent for failures that end no delivery.
       */
      readonly jobId?: string;
    };

/** A pluggable logger. Every method is optional; nothing is printed by default. */
export interface Logger {
  debug?(message: string, data?: Readonly<Record<string, unknown>>): void;
  info?(message: string, data?: Readonly<Record<string, unknown>>): void;
  warn?(message: string, data?: Readonly<Record<string, unknown>>): void;
  error?(message: string, data?: Readonly<Record<string, unknown>>): void;
}
