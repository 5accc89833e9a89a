/**
 * Counts the Pub/Sub data-plane requests of every v1 client in this process (raw loop, adapter
 * and worker alike), by wrapping the methods of the client classes the adapter loads. The
 * bench reads the counts around each round to print requests per job side by side.
 */
import { RequestCounter } from '@bg/backends/bench';
import { loadV1 } from '../src/load-v1.js';

type Method = (this: unknown, request: Record<string, unknown>, ...rest: unknown[]) => Promise<unknown[]>;

/** Counts each call of `proto[name]` under `name` (and, with `inFlight`, the most in flight at once). */
function wrap(
  counter: RequestCounter,
  proto: object,
  name: string,
  inFlight: boolean,
  count: (request: Record<string, unknown>, response: unknown) => void = () => {},
): void {
  const original = (proto as Record<string, Method>)[name] as Method;
  (proto as Record<string, Method>)[name] = function (this: unknown, request, ...rest) {
    counter.add(name);
    const done = inFlight ? counter.started(name) : undefined;
    const answer = original.call(this, request, ...rest);
    void answer.then(
      (r) => {
        done?.();
        count(request, r[0]);
      },
      () => {
        done?.();
        count(request, undefined);
      },
    );
    return answer;
  };
}

let counter: RequestCounter | undefined;

/**
 * Starts counting (once per process) and returns the counter: `publish`, `pull`,
 * `acknowledge`, `modifyAckDeadline` calls, plus `pull empty` (pulls that brought nothing) and
 * `pull in flight max` (the most pulls in flight at once).
 */
export function countRequests(): RequestCounter {
  if (counter) return counter;
  const c = new RequestCounter();
  counter = c;
  const sdk = loadV1();
  wrap(c, sdk.PublisherClient.prototype, 'publish', false);
  wrap(c, sdk.SubscriberClient.prototype, 'pull', true, (_request, response) => {
    const n = (response as { receivedMessages?: unknown[] } | undefined)?.receivedMessages?.length ?? 0;
    if (n === 0) c.add('pull empty');
  });
  wrap(c, sdk.SubscriberClient.prototype, 'acknowledge', false);
  wrap(c, sdk.SubscriberClient.prototype, 'modifyAckDeadline', false);
  return c;
}
