import type { DeadLetterReason, ErrorInfo } from './adapter.js';

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
    }
  | {
      readonly type: 'dead-lettered';
      readonly jobId: string;
      readonly jobType: string | undefined;
      readonly attempt: number;
      readonly reason: DeadLetterReason;
      readonly error?: ErrorInfo;
    }
  | { readonly type: 'lease-lost'; readonly jobId: string; readonly jobType: string | undefined }
  | { readonly type: 'lease-extended'; readonly jobId: string; readonly jobType: string | undefined }
  | {
      readonly type: 'deferred';
      readonly jobId: string;
      readonly why: 'not-before' | 'unknown-version' | 'shutdown';
      readonly delayMs: number;
    }
  | { readonly type: 'error'; readonly error: ErrorInfo; readonly during: string };

/** A pluggable logger. Every method is optional; nothing is printed by default. */
export interface Logger {
  debug?(message: string, data?: Readonly<Record<string, unknown>>): void;
  info?(message: string, data?: Readonly<Record<string, unknown>>): void;
  warn?(message: string, data?: Readonly<Record<string, unknown>>): void;
  error?(message: string, data?: Readonly<Record<string, unknown>>): void;
}
