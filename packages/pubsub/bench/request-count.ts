/**
 * Counts the Pub/Sub data-plane requests of every v1 client in this process (raw loop, adapter
 * and worker alike), by wrapping the methods of the client classes the adapter loads. The
 * bench reads the counts around each round to print requests per job side by side.
 */
import { loadV1 } from '../src/load-v1.js';

/**
 * Requests since the counter started: `publish`, `pull`, `acknowledge`, `modifyAckDeadline`
 * calls, plus `pull empty` (pulls that brought nothing) and `pull in flight max` (the most
 * pulls in flight at once).
 */
export type RequestCounts = Record<string, number>;

const counts: RequestCounts = {};
let pullsInFlight = 0;

function add(key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

type Method = (this: unknown, request: Record<string, unknown>, ...rest: unknown[]) => Promise<unknown[]>;

function wrap(proto: object, name: string, count: (request: Record<string, unknown>, response: unknown) => void): void {
  const original = (proto as Record<string, Method>)[name] as Method;
  (proto as Record<string, Method>)[name] = function (this: unknown, request, ...rest) {
    add(name);
    const answer = original.call(this, request, ...rest);
    void answer.then(
      (r) => count(request, r[0]),
      () => count(request, undefined),
    );
    return answer;
  };
}

let installed = false;

/** Starts counting (once per process); returns the live counts. */
export function countRequests(): Readonly<RequestCounts> {
  if (installed) return counts;
  installed = true;
  const sdk = loadV1();
  wrap(sdk.PublisherClient.prototype, 'publish', () => {});
  const pull = (sdk.SubscriberClient.prototype as unknown as Record<string, Method>).pull as Method;
  (sdk.SubscriberClient.prototype as unknown as Record<string, Method>).pull = function (this: unknown, ...args) {
    pullsInFlight++;
    if (pullsInFlight > (counts['pull in flight max'] ?? 0)) counts['pull in flight max'] = pullsInFlight;
    const answer = pull.apply(this, args);
    void answer.then(
      () => pullsInFlight--,
      () => pullsInFlight--,
    );
    return answer;
  };
  wrap(sdk.SubscriberClient.prototype, 'pull', (_request, response) => {
    const n = (response as { receivedMessages?: unknown[] } | undefined)?.receivedMessages?.length ?? 0;
    if (n === 0) add('pull empty');
  });
  wrap(sdk.SubscriberClient.prototype, 'acknowledge', () => {});
  wrap(sdk.SubscriberClient.prototype, 'modifyAckDeadline', () => {});
  return counts;
}

/** Starts a round: resets the in-flight maximum; returns a copy of the counts to diff against. */
export function roundStart(): RequestCounts {
  counts['pull in flight max'] = pullsInFlight;
  return { ...countRequests() };
}

/** The counts since `before` ({@link roundStart}); the in-flight maximum is the round's. */
export function countsSince(before: Readonly<RequestCounts>): RequestCounts {
  const now = countRequests();
  const out: RequestCounts = {};
  for (const [key, value] of Object.entries(now)) {
    out[key] = key.endsWith(' max') ? value : value - (before[key] ?? 0);
  }
  return out;
}
