/** The Redis keys of one queue, all under one hash tag so they share a cluster slot. */
export interface QueueKeys {
  /** Live messages (stream with consumer group {@link GROUP}). */
  readonly stream: string;
  /** Released entries: sorted set of entry id → visible-at (epoch ms). */
  readonly released: string;
  /** Where the expired-lease scan (XAUTOCLAIM) resumes. */
  readonly cursor: string;
  /** Delayed sends: sorted set of token → due time. */
  readonly delayed: string;
  /** Prefix of the hash holding one delayed message. */
  readonly delayedMessage: string;
  /** Dead letters: hash job id → record JSON. */
  readonly dead: string;
  /** Dead-letter order: sorted set job id → dead-lettered-at. */
  readonly deadIndex: string;
  /** Prefix of deduplication keys. */
  readonly dedup: string;
}

/** The consumer group every worker of a queue shares. */
export const GROUP = 'bg';

/** Keys of `queue` under `prefix`: `{prefix:queue}:s`, `…:l`, … */
export function queueKeys(prefix: string, queue: string): QueueKeys {
  const tag = `{${prefix}:${queue}}`;
  return {
    stream: `${tag}:s`,
    released: `${tag}:r`,
    cursor: `${tag}:c`,
    delayed: `${tag}:d`,
    delayedMessage: `${tag}:dm:`,
    dead: `${tag}:x`,
    deadIndex: `${tag}:xi`,
    dedup: `${tag}:k:`,
  };
}
