/**
 * Counts the SQS requests of every `SQSClient` in this process (raw loop, adapter and worker
 * alike) by command, with the entries and messages they carried and the most receives in
 * flight at once, by wrapping
 * `SQSClient.prototype.send`. The bench reads the counts around each round to print
 * requests per job side by side.
 */
import { SQSClient } from '@aws-sdk/client-sqs';

/** Requests since the counter started, by command name, and what they carried. */
export type RequestCounts = Record<string, number>;

const counts: RequestCounts = {};
let receivesInFlight = 0;

function add(key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

let installed = false;

/** Starts counting (once per process); returns the live counts. */
export function countRequests(): Readonly<RequestCounts> {
  if (installed) return counts;
  installed = true;
  const original = SQSClient.prototype.send as (this: SQSClient, command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const counting = function (this: SQSClient, command: unknown, ...rest: unknown[]): Promise<unknown> {
    const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    const input = (command as { input?: { Entries?: unknown[] } }).input;
    add(name);
    if (input?.Entries) add(`${name} entries`, input.Entries.length);
    const answer = original.call(this, command, ...rest);
    if (name === 'ReceiveMessage') {
      receivesInFlight++;
      if (receivesInFlight > (counts['ReceiveMessage in flight max'] ?? 0))
        counts['ReceiveMessage in flight max'] = receivesInFlight;
      void answer.then(
        (r) => {
          receivesInFlight--;
          const n = (r as { Messages?: unknown[] }).Messages?.length ?? 0;
          add('ReceiveMessage messages', n);
          if (n === 0) add('ReceiveMessage empty');
        },
        () => {
          receivesInFlight--;
          add('ReceiveMessage failed');
        },
      );
    }
    return answer;
  };
  Object.defineProperty(SQSClient.prototype, 'send', { value: counting, writable: true, configurable: true });
  return counts;
}

/** Starts a round: resets the in-flight maximum; returns a copy of the counts to diff against. */
export function roundStart(): RequestCounts {
  counts['ReceiveMessage in flight max'] = receivesInFlight;
  return { ...countRequests() };
}

/** The counts since `before` ({@link roundStart}); the in-flight maximum is the round's. */
export function countsSince(before: Readonly<RequestCounts>): RequestCounts {
  const now = countRequests();
  const out: RequestCounts = {};
  for (const [key, value] of Object.entries(now)) out[key] = key.endsWith(' max') ? value : value - (before[key] ?? 0);
  return out;
}
