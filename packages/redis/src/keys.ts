/** The Redis keys of one queue, all under one hash tag so they share a cluster slot. */
export interface QueueKeys {
  /** Live messages (stream with consumer group {@link GROUP}). */
  readonly stream: string;
  /** Released entries: sorted set of entry id → visible-at (epoch ms). */
  readonly released: string;
  /** When the next pass for expired leases may run (hash field `t`). */
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
  /**
   * Wake-up stream: every write that may give a waiting worker something to do (send,
   * delayed send, release, replay) adds an entry, trimmed to one; waiting workers block on it.
   */
  readonly wake: string;
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
    wake: `${tag}:w`,
  };
}

/** Escapes the glob characters of a SCAN MATCH pattern. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The SCAN MATCH pattern of every queue stream under `prefix`. */
export function streamKeyPattern(prefix: string): string {
  return `{${escapeGlob(prefix)}:*}:s`;
}

/** The queue name of a stream key `{prefix:queue}:s`, or undefined for any other key. */
export function queueOfStreamKey(prefix: string, key: string): string | undefined {
  const head = `{${prefix}:`;
  if (!key.startsWith(head) || !key.endsWith('}:s')) return undefined;
  const queue = key.slice(head.length, -3);
  return queue.length > 0 && !queue.includes('}') ? queue : undefined;
}
