import type { Cluster, Redis } from 'ioredis';

/** Options of {@link redisAdapter}. */
export interface RedisAdapterOptions {
  /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). Default `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /**
   * Bring your own ioredis client or cluster (the adapter then never closes it). It may not set
   * ioredis's `keyPrefix` (use {@link RedisAdapterOptions.prefix}); give it
   * `autoResendUnfulfilledCommands: false`, as the adapter gives its own connection.
   */
  readonly client?: Redis | Cluster;
  /**
   * Startup nodes of a Redis Cluster (`[{ host, port }, …]`): the adapter opens (and closes)
   * an ioredis `Cluster` on them. Every key of a queue shares one hash tag, so each queue
   * lives on one shard; queues spread over the shards. `url` is then ignored.
   */
  readonly cluster?: readonly { readonly host: string; readonly port: number }[];
  /** Key prefix (default `bg`): keys are `{prefix:queue}:…`. */
  readonly prefix?: string;
  /** Largest body accepted, in bytes (default 1 MiB). */
  readonly maxPayloadBytes?: number;
  /** How long an idempotency key blocks a second send (default 5 min). */
  readonly deduplicationWindowMs?: number;
  /**
   * Longest a waiting worker leaves an idle queue unchecked when no wake-up came (default
   * 15 s). Sends, releases and replays wake waiting workers at once; this bounds how late a
   * job is whose wake-up was lost (a producer that died between its two writes, or another
   * program writing the stream directly). An idle check costs about 9 Redis commands.
   */
  readonly fallbackPollMs?: number;
  /**
   * How long a consumer of a queue's group (one per worker process and lease length) may go
   * with nothing pending and without reading before a receive removes it (default 1 h). A
   * process that exited leaves its consumer behind; a live one that is removed is re-created
   * by its next read. A consumer that still holds leases is never removed.
   */
  readonly idleConsumerMs?: number;
  /**
   * How close to the end of a lease this process took an ack first proves, inside Redis, that
   * the handle still owns its delivery (default 250 ms; ≥ 0). Before that, nobody else can hold
   * the entry and the ack is a plain `XACK` + `XDEL`; see "Acks" in the README.
   */
  readonly ownershipMarginMs?: number;
  /** How long the first connection may take before calls fail with `UNREACHABLE` (default 5 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Longest a Redis call waits for its answer (default 10 000 ms): past it the call fails with
   * `UNREACHABLE` (ioredis's `commandTimeout`), and a connection that brought no byte for that
   * long while commands waited is taken for dead (a black-holed network, a half-open connection
   * after a failover: no RST ever comes), destroyed and made again (`socketTimeout`). A command
   * slower than this on a live server (a huge `stats` scan) fails the same way. The blocking
   * wake-up read gets its block time on top. Not applied to a `client` you bring: set
   * `commandTimeout` and `socketTimeout` on it yourself.
   */
  readonly commandTimeoutMs?: number;
  /**
   * Receives the startup warnings (eviction policy, persistence off). Default: one line on
   * stderr, once per process (`warnOnce` of `@bg/core`; `BG_NO_WARNINGS=1` turns it off).
   * Pass `() => {}` to silence them.
   */
  readonly onWarning?: (message: string) => void;
}
