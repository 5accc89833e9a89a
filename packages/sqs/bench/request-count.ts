/**
 * Counts the SQS requests of every `SQSClient` in this process (raw loop, adapter and worker
 * alike) by command, with the entries and messages they carried and the most receives in
 * flight at once, by wrapping `SQSClient.prototype.send`. The bench reads the counts around
 * each round to print requests per job side by side.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { RequestCounter } from '@bg/backends/bench';

let counter: RequestCounter | undefined;

/**
 * Starts counting (once per process) and returns the counter: requests by command name,
 * `<command> entries` (batch entries sent), `ReceiveMessage messages`, `ReceiveMessage
 * empty`, `ReceiveMessage failed` and `ReceiveMessage in flight max`.
 */
export function countRequests(): RequestCounter {
  if (counter) return counter;
  const c = new RequestCounter();
  counter = c;
  const original = SQSClient.prototype.send as (this: SQSClient, command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const counting = function (this: SQSClient, command: unknown, ...rest: unknown[]): Promise<unknown> {
    const name = (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    const input = (command as { input?: { Entries?: unknown[] } }).input;
    c.add(name);
    if (input?.Entries) c.add(`${name} entries`, input.Entries.length);
    const answer = original.call(this, command, ...rest);
    if (name === 'ReceiveMessage') {
      const done = c.started(name);
      void answer.then(
        (r) => {
          done();
          const n = (r as { Messages?: unknown[] }).Messages?.length ?? 0;
          c.add('ReceiveMessage messages', n);
          if (n === 0) c.add('ReceiveMessage empty');
        },
        () => {
          done();
          c.add('ReceiveMessage failed');
        },
      );
    }
    return answer;
  };
  Object.defineProperty(SQSClient.prototype, 'send', { value: counting, writable: true, configurable: true });
  return c;
}
