import { queueKeys } from '@bg/redis';
import type { Cluster, Redis } from 'ioredis';

/**
 * Where lost jobs are in a Redis queue, read with the backend's own client (a plain client or
 * a cluster client: every key of a queue shares its hash tag, so one slot): the stream entry
 * holding each job, its pending entry in the `bg` group, its score in the released set, and
 * the group's own description. For the failure report of a chaos run.
 */
export async function diagnoseRedisQueue(
  raw: Redis | Cluster,
  prefix: string,
  queue: string,
  ids: readonly string[],
): Promise<string[]> {
  const k = queueKeys(prefix, queue);
  const entries = (await raw.xrange(k.stream, '-', '+')) as [string, string[]][];
  const pending = (await raw.xpending(k.stream, 'bg', '-', '+', 100_000)) as [string, string, number, number][];
  const out: string[] = [`stream length ${entries.length}, pending ${pending.length}`];
  for (const id of ids) {
    const entry = entries.find(([, f]) => f.some((v) => v === id || v.includes(`"id":"${id}"`)));
    if (!entry) {
      out.push(`${id}: not in the stream`);
      continue;
    }
    const p = pending.find(([e]) => e === entry[0]);
    const released = await raw.zscore(k.released, entry[0]);
    out.push(
      `${id}: stream entry ${entry[0]}; ${p ? `pending: consumer ${p[1]}, idle ${p[2]} ms, deliveries ${p[3]}` : 'not pending (never read by the group?)'}; released-zset score ${released}`,
    );
  }
  const group = await raw.xinfo('GROUPS', k.stream);
  out.push(`group: ${JSON.stringify(group)}`);
  return out;
}
