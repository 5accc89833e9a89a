import type { CallCounter } from '@bg/backends';
import type { Redis } from 'ioredis';

/** Commands `servers` ran (scripts' inner calls included), INFO, CONFIG, CLUSTER and CLIENT SETNAME left out. */
export function commandCount(servers: readonly Redis[]): CallCounter {
  return async () => {
    let total = 0;
    for (const server of servers)
      for (const m of (await server.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g))
        if (!/^(info|config|cluster\|.*|client\|setname)$/.test(m[1] ?? '')) total += Number(m[2]);
    return total;
  };
}
