import {
  ADAPTER_CONTRACT_VERSION,
  type Adapter,
  abortableSleep,
  assertQueueName,
  assertSendable,
  BackgroundWork,
  BgError,
  booleanOption,
  type Capabilities,
  CLOSE_HAND_BACK_WAIT_MS,
  CloseGuard,
  checkDeadLetterArgs,
  checkLeaseMs,
  checkPurgeIds,
  checkReceiveOptions,
  checkReleaseDelayMs,
  type DeadLetterInfo,
  DeadLetterStore,
  deadLetterRecord,
  IdlePacer,
  integerOption,
  invalidOption,
  isBgError,
  leaseLost as kitLeaseLost,
  type LeaseHandle,
  type OutgoingMessage,
  partialSendError,
  QUEUE_NAME_PATTERN,
  type QueueStats,
  type ReceivedMessage,
  type ReceiveOptions,
  raceAbortHandBack,
  type SendResult,
} from '@bg/core/adapter';
import type { ClientConfig, protos } from '@google-cloud/pubsub';
import {
  MAX_ACK_DEADLINE_SECONDS,
  MAX_DELIVERY_ATTEMPTS,
  MESSAGE_LIMIT_BYTES,
  MIN_ACK_DEADLINE_SECONDS,
  PUBLISH_REQUEST_LIMIT_BYTES,
  PUBLISH_REQUEST_LIMIT_MESSAGES,
  PUBSUB_CAPABILITIES,
} from './capabilities.js';
import { type Clients, createClients } from './clients.js';
import { connectionOptions } from './connection-options.js';
import { pubsubDeadLetterBackend } from './dead-letter-store.js';
import { detachedSubscriptionError } from './detached-subscription.js';
import { LeaseTable } from './lease-table.js';
import { trackManagementCalls } from './management-calls.js';
import { ackIdFailures, isAlreadyExists, isInvalidAckId, isInvalidArgument, isNotFound, mapError } from './map-error.js';
import { decodeReceived, type EncodedMessage, encodeDeadLetter, encodeOutgoing } from './message-codec.js';
import { PullPlanner } from './pull-planner.js';
import { PREFIX_PATTERN, QUEUE_LABEL, type QueueResources, queueResources } from './resource-names.js';
import { SettleBatcher, type SettleKind } from './settle-batcher.js';

/** Options of {@link pubsubAdapter}. */
export interface PubSubAdapterOptions {
  /** Google Cloud project id (default: `PUBSUB_PROJECT_ID`, `GOOGLE_CLOUD_PROJECT`, or the credentials' project). */
  readonly projectId?: string;
  /** `host:port` of an emulator or a private endpoint (default: the real service). */
  readonly apiEndpoint?: string;
  /** Force (true) or forbid (false) emulator mode: plain-text channel, no credentials. Default: guessed from `apiEndpoint`. */
  readonly emulator?: boolean;
  /** Extra options for the Google client (credentials, keyFilename …), as the `PubSub` class takes them. */
  readonly clientConfig?: ClientConfig;
  /**
   * Prefix of every topic and subscription name (default `bg-`): 1–40 characters of
   * `A-Z a-z 0-9 . _ ~ + -`, starting with a letter.
   */
  readonly prefix?: string;
  /** Timeout of every Pub/Sub call, ms, 1–3 600 000 (default 30 000). Calls are not retried by the client: errors surface at once. */
  readonly timeoutMs?: number;
  /**
   * Longest pause between two pulls of a queue while it is empty, ms, 1–60 000 (default 1 000): empty pulls
   * back off from 10 ms to this, across receives, so an idle worker costs about one pull per
   * `pollIntervalMs` per queue. A send or release through this adapter ends the pause at once;
   * a job sent by another process waits at most this long.
   */
  readonly pollIntervalMs?: number;
  /**
   * `ensureQueue` creates the worker subscription with exactly-once delivery (default true):
   * Pub/Sub then rejects acks and extensions of expired ack ids, which is how the adapter
   * reports `LEASE_LOST`. Without it the adapter falls back to its own lease clock.
   */
  readonly exactlyOnceDelivery?: boolean;
  /** Unacked-message retention of the worker subscription, whole seconds from 600 (10 min) to 7 days (default: 7 days). */
  readonly retentionSeconds?: number;
  /** Retention of the dead-letter topic, whole seconds from 600 (10 min) to 31 days (default: 31 days): how long a dead letter is kept. */
  readonly deadLetterRetentionSeconds?: number;
  /**
   * Most dead letters one scan reads, 1–1 000 000 (default 10 000). Past it `stats().dead` is
   * `null` (unknown), list/get/replay/purge by id fail with `UNSUPPORTED`, purge of all works in rounds.
   */
  readonly deadLetterScanLimit?: number;
  /**
   * `maxDeliveryAttempts` of the dead-letter policy `ensureQueue` gives a new worker
   * subscription, 5–100 (default and maximum 100), declared as `capabilities.maxDeliveries`
   * (the worker keeps parked delays below it). An existing subscription keeps its policy: one
   * whose policy forwards after fewer attempts than this is refused on first use (set this
   * option to its value).
   */
  readonly maxDeliveryAttempts?: number;
}

interface SubscriptionInfo {
  readonly exactlyOnce: boolean;
  readonly ackDeadlineSeconds: number;
}

interface QueueState {
  readonly queue: string;
  readonly resources: QueueResources;
  readonly leases: LeaseTable;
  /** Acks, extends and releases of this turn, one request per kind (see {@link SettleBatcher}). */
  readonly settles: SettleBatcher;
  info?: Promise<SubscriptionInfo>;
  /** The settings once read (lets the per-message calls skip awaiting `info`). */
  infoValue?: SubscriptionInfo;
  /** How receives split into parallel pulls (see {@link PullPlanner}). */
  readonly pulls: PullPlanner;
  /** Pauses between empty pulls, across receives (see {@link IdlePacer}). */
  readonly idle: IdlePacer;
}

const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3_600;
const DEFAULT_DEAD_RETENTION_SECONDS = 31 * 24 * 3_600;
/** Shortest retention Pub/Sub accepts on a subscription or topic, seconds (10 minutes). */
const MIN_RETENTION_SECONDS = 600;
/** `maxDeliveryAttempts` Pub/Sub applies when a dead-letter policy leaves it unset (0). */
const POLICY_DEFAULT_DELIVERY_ATTEMPTS = 5;
/** Longest `close()` waits for acks, sends and other settling calls still in flight. */
const CLOSE_SETTLE_WAIT_MS = 10_000;
/** The pause after a queue's first empty pull, ms (then doubling up to `pollIntervalMs`). */
const FIRST_IDLE_PAUSE_MS = 10;
const DEAD_SUBSCRIPTION_ACK_DEADLINE_SECONDS = 60;
/** Bytes of request framing counted per message when splitting a publish into requests. */
const PER_MESSAGE_OVERHEAD_BYTES = 64;
const TRANSIENT_ACK_RETRIES = 3;

/** The RPC a settle of `kind` is. */
const settleCall = (kind: SettleKind): string => (kind === 'ack' ? 'acknowledge' : 'modifyAckDeadline');

function leaseSeconds(ms: number): number {
  return Math.min(MAX_ACK_DEADLINE_SECONDS, Math.max(MIN_ACK_DEADLINE_SECONDS, Math.ceil(ms / 1_000)));
}

/** The kit's `LEASE_LOST` error of this adapter (the handle is not repeated: ack ids are long and opaque). */
function leaseLost(_handle: string, why: string, cause?: unknown): BgError {
  return kitLeaseLost('pubsub', why, cause);
}

/** The options' owner in error messages. */
const OWNER = 'pubsub';

function prefixOption(value: unknown): string {
  if (value === undefined) return 'bg-';
  if (typeof value !== 'string' || !PREFIX_PATTERN.test(value)) {
    throw invalidOption(OWNER, 'prefix', '1-40 characters of A-Z a-z 0-9 . _ ~ + -, starting with a letter', value);
  }
  return value;
}

/** The last segment of a resource name (`projects/p/subscriptions/bg-x` → `bg-x`). */
function shortName(resource: string): string {
  return resource.slice(resource.lastIndexOf('/') + 1);
}

/** Splits encoded messages into publish requests within Pub/Sub's count and size limits. */
function publishRequests(encoded: readonly EncodedMessage[]): EncodedMessage[][] {
  const requests: EncodedMessage[][] = [];
  let current: EncodedMessage[] = [];
  let bytes = 0;
  for (const m of encoded) {
    const size = m.bytes + PER_MESSAGE_OVERHEAD_BYTES;
    if (current.length > 0 && (current.length >= PUBLISH_REQUEST_LIMIT_MESSAGES || bytes + size > PUBLISH_REQUEST_LIMIT_BYTES)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/**
 * The Google Cloud Pub/Sub adapter. A queue is a topic plus one subscription shared by all
 * workers (synchronous pull), with a dead-letter topic and subscription beside it. Leases
 * are ack deadlines, handles are ack ids, the delivery count is Pub/Sub's `deliveryAttempt`.
 *
 * @example
 * ```ts
 * const adapter = pubsubAdapter({ projectId: 'my-project' })
 * // local emulator: pubsubAdapter({ projectId: 'dev', apiEndpoint: '127.0.0.1:8085' })
 * await adapter.ensureQueue('emails')
 * const jobs = createQueue({ adapter, queue: 'emails' })
 * ```
 */
export function pubsubAdapter(options: PubSubAdapterOptions = {}): Adapter {
  // Every option is checked here, with the rules of the pubsub:// URL where it has a parameter:
  // a bad value is INVALID_ARGUMENT (not retryable) naming the option, not a failure at first use.
  // Unknown names, and what goes to the Google client (project, endpoint, emulator, clientConfig), first.
  const connection = connectionOptions(options);
  const maxDeliveryAttempts = integerOption(
    OWNER,
    'maxDeliveryAttempts',
    options.maxDeliveryAttempts,
    MAX_DELIVERY_ATTEMPTS,
    POLICY_DEFAULT_DELIVERY_ATTEMPTS,
    MAX_DELIVERY_ATTEMPTS,
  );
  const capabilities: Capabilities =
    maxDeliveryAttempts === MAX_DELIVERY_ATTEMPTS
      ? PUBSUB_CAPABILITIES
      : Object.freeze({ ...PUBSUB_CAPABILITIES, maxDeliveries: maxDeliveryAttempts });
  const prefix = prefixOption(options.prefix);
  const timeoutMs = integerOption(OWNER, 'timeoutMs', options.timeoutMs, 30_000, 1, 3_600_000);
  const pollIntervalMs = integerOption(OWNER, 'pollIntervalMs', options.pollIntervalMs, 1_000, 1, 60_000);
  const exactlyOnceDelivery = booleanOption(OWNER, 'exactlyOnceDelivery', options.exactlyOnceDelivery, true);
  const retentionSeconds = integerOption(
    OWNER,
    'retentionSeconds',
    options.retentionSeconds,
    DEFAULT_RETENTION_SECONDS,
    MIN_RETENTION_SECONDS,
    DEFAULT_RETENTION_SECONDS,
  );
  const deadRetentionSeconds = integerOption(
    OWNER,
    'deadLetterRetentionSeconds',
    options.deadLetterRetentionSeconds,
    DEFAULT_DEAD_RETENTION_SECONDS,
    MIN_RETENTION_SECONDS,
    DEFAULT_DEAD_RETENTION_SECONDS,
  );
  const scanLimit = integerOption(OWNER, 'deadLetterScanLimit', options.deadLetterScanLimit, 10_000, 1, 1_000_000);
  const clients: Clients = createClients({ timeoutMs, ...connection });
  const { publisher, subscriber } = clients;
  /** Fresh call options per call: the generated methods write their routing header into them. */
  const call = clients.call;
  const guard = new CloseGuard('pubsub');
  /** Pulls still out and the late hand-backs of aborted ones: `close()` lets them finish before it closes the clients. */
  const background = new BackgroundWork();
  /** Acks, sends, extends, releases and dead-letterings in flight: `close()` lets them finish (bounded) first. */
  const settling = new BackgroundWork();
  /** Set once `close()` closes the clients: a call failing after that is `CLOSED`. */
  let clientsClosed = false;
  const queues = new Map<string, QueueState>();
  /** Dead-letter management (list, get, replay, purge), its mutations serialised per queue. */
  const dead = pubsubDeadLetterBackend(
    subscriber,
    call,
    async (queue) => (await open(queue)).resources.deadSubscription,
    async (queue, letter) => {
      const state = await open(queue);
      // A new Pub/Sub message: a fresh delivery count.
      await publish(state.resources.topic, [encodeOutgoing({ id: letter.id, body: letter.body, attributes: letter.attributes })]);
    },
    scanLimit,
  );
  const deadLetters = new DeadLetterStore(dead.backend);

  async function open(queue: string): Promise<QueueState> {
    guard.assertOpen();
    const known = queues.get(queue);
    if (known) return known;
    const resources = queueResources(await projectId(), prefix, queue);
    guard.assertOpen();
    const existing = queues.get(queue);
    if (existing) return existing;
    const state: QueueState = {
      queue,
      resources,
      leases: new LeaseTable(),
      pulls: new PullPlanner(),
      idle: new IdlePacer({ firstMs: FIRST_IDLE_PAUSE_MS, maxMs: pollIntervalMs }),
      settles: new SettleBatcher({
        async many(kind, ackIds) {
          const subscription = resources.subscription;
          if (kind === 'ack') await subscriber.acknowledge({ subscription, ackIds }, call());
          else await subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: kind }, call());
        },
        single: (kind, ackId) => settleOne(state, ackId, kind, settleCall(kind)),
        // An invalid ack id among valid ones fails the request without naming it.
        someIds: isInvalidArgument,
        failure: (kind, error) => mapError(error, settleCall(kind)),
      }),
    };
    queues.set(queue, state);
    return state;
  }

  async function projectId(): Promise<string> {
    try {
      return await clients.projectId();
    } catch (error) {
      throw new BgError(
        'INVALID_ARGUMENT',
        'no Google Cloud project id: pass projectId (pubsub://<project>?…) or set GOOGLE_CLOUD_PROJECT (PUBSUB_PROJECT_ID for an emulator)',
        {
          cause: error,
        },
      );
    }
  }

  /**
   * The settings of a worker subscription as read, once checked: it must have a dead-letter
   * policy (without one Pub/Sub never fills `deliveryAttempt`: every delivery would be attempt 1
   * and `maxAttempts` would never end a poison job), forwarding after no fewer attempts than
   * `capabilities.maxDeliveries` says (the worker parks delayed jobs up to half of it; a lower
   * real policy would dead-letter them unrun), and must not be labelled as another prefix's
   * queue; its policy must forward to this queue's `<queue>.dead` topic (the one bg lists, replays
   * and purges). Each failure is a non-retryable `BACKEND_ERROR` saying what to change.
   */
  function checkedInfo(state: QueueState, sub: protos.google.pubsub.v1.ISubscription): SubscriptionInfo {
    const { resources, queue } = state;
    const name = shortName(resources.subscription);
    const owner = sub.labels?.[QUEUE_LABEL];
    if (owner !== undefined && owner !== queue) {
      throw new BgError(
        'BACKEND_ERROR',
        `Pub/Sub subscription ${name} belongs to queue "${owner}" of a longer prefix than "${prefix}" (label ${QUEUE_LABEL}), not to queue "${queue}": use that prefix, or another queue name`,
        { retryable: false, details: { subscription: name, label: owner } },
      );
    }
    const policy = sub.deadLetterPolicy;
    if (!policy?.deadLetterTopic) {
      const deadTopic = shortName(resources.deadTopic);
      throw new BgError(
        'BACKEND_ERROR',
        `Pub/Sub subscription ${name} has no dead-letter policy (deadLetterPolicy): without it Pub/Sub never counts deliveries, every delivery would be attempt 1 and maxAttempts would never apply. Add one: gcloud pubsub subscriptions update ${name} --dead-letter-topic=${deadTopic} --max-delivery-attempts=${maxDeliveryAttempts} (Terraform: dead_letter_policy { dead_letter_topic = "${resources.deadTopic}", max_delivery_attempts = ${maxDeliveryAttempts} } on the google_pubsub_subscription), or delete the subscription and let ensureQueue create it`,
        { retryable: false, details: { subscription: name, missing: 'deadLetterPolicy' } },
      );
    }
    if (policy.deadLetterTopic !== resources.deadTopic) {
      throw new BgError(
        'BACKEND_ERROR',
        `Pub/Sub subscription ${name} forwards undeliverable messages to ${policy.deadLetterTopic} (deadLetterPolicy.deadLetterTopic), but bg keeps this queue's dead letters in ${resources.deadTopic}: what Pub/Sub forwards there would never be listed, replayed or purged (and is dropped if that topic has no subscription). Point the policy at it: gcloud pubsub subscriptions update ${name} --dead-letter-topic=${shortName(resources.deadTopic)} (Terraform: dead_letter_topic = "${resources.deadTopic}"), or delete the subscription and let ensureQueue create it`,
        {
          retryable: false,
          details: { subscription: name, policyDeadLetterTopic: policy.deadLetterTopic, deadLetterTopic: resources.deadTopic },
        },
      );
    }
    const real = policy.maxDeliveryAttempts || POLICY_DEFAULT_DELIVERY_ATTEMPTS;
    if (real < maxDeliveryAttempts) {
      throw new BgError(
        'BACKEND_ERROR',
        `Pub/Sub subscription ${name} dead-letters after ${real} delivery attempts (deadLetterPolicy.maxDeliveryAttempts) but this adapter declares capabilities.maxDeliveries ${maxDeliveryAttempts}: the worker would park delayed jobs past ${real} deliveries and Pub/Sub would dead-letter them without running them. Pass the option maxDeliveryAttempts: ${real} to pubsubAdapter, or raise the policy (gcloud pubsub subscriptions update ${name} --max-delivery-attempts=${maxDeliveryAttempts})`,
        { retryable: false, details: { subscription: name, policyMaxDeliveryAttempts: real, maxDeliveryAttempts } },
      );
    }
    return {
      exactlyOnce: sub.enableExactlyOnceDelivery === true,
      ackDeadlineSeconds: sub.ackDeadlineSeconds ?? MIN_ACK_DEADLINE_SECONDS,
    };
  }

  /** Reads the worker subscription's settings once (also: does the queue exist), checked by {@link checkedInfo}. */
  function subscriptionInfo(state: QueueState): Promise<SubscriptionInfo> {
    if (!state.info) {
      const loading = subscriber.getSubscription({ subscription: state.resources.subscription }, call()).then(
        ([sub]) => {
          try {
            state.infoValue = checkedInfo(state, sub);
          } catch (error) {
            state.info = undefined;
            throw error;
          }
          return state.infoValue;
        },
        (error: unknown) => {
          state.info = undefined;
          throw mapError(error, 'getSubscription');
        },
      );
      state.info = loading;
    }
    return state.info;
  }

  /**
   * `modifyAckDeadline`/`acknowledge` of one ack id. On an exactly-once subscription Pub/Sub
   * answers an expired or foreign ack id with a per-ack-id permanent failure: LEASE_LOST.
   */
  async function settleOne(state: QueueState, handle: string, deadlineSeconds: number | 'ack', what: string): Promise<void> {
    const subscription = state.resources.subscription;
    for (let attempt = 0; ; attempt++) {
      try {
        if (deadlineSeconds === 'ack') await subscriber.acknowledge({ subscription, ackIds: [handle] }, call());
        else await subscriber.modifyAckDeadline({ subscription, ackIds: [handle], ackDeadlineSeconds: deadlineSeconds }, call());
        return;
      } catch (error) {
        const failures = ackIdFailures(error);
        const status = failures?.get(handle);
        if (status?.startsWith('PERMANENT_FAILURE')) throw leaseLost(handle, `Pub/Sub answered ${status} to ${what}`);
        if (status?.startsWith('TRANSIENT_FAILURE') && attempt < TRANSIENT_ACK_RETRIES) {
          await abortableSleep(50 * 2 ** attempt);
          continue;
        }
        if (isInvalidAckId(error)) throw leaseLost(handle, `Pub/Sub does not know this ack id (${what})`);
        throw mapError(error, what);
      }
    }
  }

  /**
   * Throws LEASE_LOST when the lease is known to be over: released through this adapter (on
   * any subscription: an extend or ack would otherwise undo the release), or its ack deadline
   * passed (subscriptions without exactly-once; with it Pub/Sub rejects expired ack ids itself).
   */
  async function assertLocallyOwned(state: QueueState, handle: string): Promise<SubscriptionInfo> {
    const info = await subscriptionInfo(state);
    checkLocallyOwned(state, info, handle);
    return info;
  }

  /** {@link assertLocallyOwned} once the subscription's settings are known. */
  function checkLocallyOwned(state: QueueState, info: SubscriptionInfo, handle: string): void {
    if (state.leases.ended(handle)) throw leaseLost(handle, 'it was released (its lease ended)');
    if (!info.exactlyOnce) {
      const expiresAt = state.leases.expiresAt(handle);
      if (expiresAt !== undefined && expiresAt <= performance.now()) {
        throw leaseLost(handle, 'its ack deadline passed (another worker may have it now)');
      }
    }
  }

  function assertHandle(handle: LeaseHandle): void {
    if (typeof handle !== 'string' || handle.length === 0)
      throw new BgError('INVALID_ARGUMENT', 'lease handle must be a non-empty string');
  }

  /** Hands late deliveries (a pull that finished after its receive gave up) straight back. */
  async function handBack(state: QueueState, response: protos.google.pubsub.v1.IPullResponse): Promise<void> {
    const ackIds = (response.receivedMessages ?? []).map((m) => m.ackId).filter((id): id is string => Boolean(id));
    if (ackIds.length === 0) return;
    await subscriber.modifyAckDeadline({ subscription: state.resources.subscription, ackIds, ackDeadlineSeconds: 0 }, call());
  }

  /** One pull; undefined when `signal` aborted it first (what it brings later is handed back). */
  async function pullOnce(
    state: QueueState,
    max: number,
    signal: AbortSignal,
  ): Promise<protos.google.pubsub.v1.IReceivedMessage[] | undefined> {
    const pending = subscriber
      .pull({ subscription: state.resources.subscription, maxMessages: max, returnImmediately: true }, call())
      .then(([response]) => response);
    const outcome = await raceAbortHandBack(pending, signal, (late) => handBack(state, late), background).catch(
      (error: unknown) => {
        throw mapError(error, 'pull');
      },
    );
    if (!outcome.done) return undefined;
    return (outcome.value.receivedMessages ?? []).filter((m) => m.ackId);
  }

  /**
   * The pulls of one receive ({@link PullPlanner}: one, or several in parallel while a backlog
   * waits), then the lease: one `modifyAckDeadline` for all when `seconds` is not the
   * subscription's deadline. Undefined when aborted before any pull brought messages. A pull
   * that fails while another brought messages does not fail the receive (those messages are
   * leased to this worker and are returned; a lasting error shows on the next receive).
   */
  async function pullLeased(
    state: QueueState,
    max: number,
    seconds: number,
    signal: AbortSignal,
  ): Promise<ReceivedMessage[] | undefined> {
    const startedAt = Date.now();
    // The lease as this process records it, on its monotonic clock (a wall clock set back must not
    // make an ended lease look held), from before the pull.
    const heldFrom = performance.now();
    const asked = state.pulls.plan(max);
    let received: protos.google.pubsub.v1.IReceivedMessage[];
    if (asked.length === 1) {
      const got = await pullOnce(state, max, signal);
      if (got === undefined) return undefined;
      state.pulls.record(asked, [got.length]);
      received = got;
    } else {
      const settled = await Promise.allSettled(asked.map((n) => pullOnce(state, n, signal)));
      received = [];
      let aborted = false;
      let failure: unknown;
      for (const outcome of settled) {
        if (outcome.status === 'rejected') failure ??= outcome.reason;
        else if (outcome.value === undefined) aborted = true;
        else for (const m of outcome.value) received.push(m);
      }
      if (received.length === 0) {
        if (failure !== undefined) throw failure;
        if (aborted) return undefined;
      }
      state.pulls.record(
        asked,
        settled.map((o) => (o.status === 'fulfilled' ? (o.value?.length ?? 0) : 0)),
      );
    }
    if (received.length === 0) return [];
    const info = state.infoValue ?? (await subscriptionInfo(state));
    if (seconds !== info.ackDeadlineSeconds) {
      const ackIds = received.map((m) => m.ackId as string);
      try {
        await subscriber.modifyAckDeadline(
          { subscription: state.resources.subscription, ackIds, ackDeadlineSeconds: seconds },
          call(),
        );
      } catch (error) {
        const failures = ackIdFailures(error);
        if (!failures) throw mapError(error, 'modifyAckDeadline');
        // Deliveries whose deadline could not be set are not handed out (they come back).
        received = received.filter((m) => !failures.has(m.ackId as string));
      }
    }
    const leaseExpiresAt = startedAt + seconds * 1_000;
    return received.map((m) => {
      state.leases.set(m.ackId as string, heldFrom + seconds * 1_000);
      return decodeReceived(m, leaseExpiresAt);
    });
  }

  async function create(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (!isAlreadyExists(error)) throw mapError(error, what);
    }
  }

  async function publish(topic: string, encoded: readonly EncodedMessage[]): Promise<void> {
    const requests = publishRequests(encoded);
    const settled = await Promise.allSettled(
      requests.map((request) => publisher.publish({ topic, messages: request.map((m) => m.message) }, call())),
    );
    const failed = settled.flatMap((outcome, i) =>
      outcome.status === 'rejected' ? (requests[i] ?? []).map((m) => ({ id: m.id, reason: outcome.reason as unknown })) : [],
    );
    if (failed.length > 0) {
      const cause = mapError(failed[0]?.reason, 'publish');
      throw partialSendError(
        'pubsub',
        encoded,
        failed.map((f) => ({ id: f.id, ...(f.reason instanceof Error ? { message: f.reason.message.split('\n')[0] } : {}) })),
        cause,
      );
    }
  }

  /**
   * True when both subscriptions of the queue exist, each attached to its topic (a
   * subscription whose topic was deleted is attached to `_deleted-topic_`): then
   * `ensureQueue` has nothing to create. Primes the worker subscription's settings. False
   * (go and create) on NOT_FOUND; other errors are thrown as `ensureQueue`'s.
   */
  async function queueInPlace(state: QueueState): Promise<boolean> {
    const { resources } = state;
    const read = (subscription: string) =>
      subscriber.getSubscription({ subscription }, call()).then(
        ([sub]) => sub,
        (error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw mapError(error, 'getSubscription');
        },
      );
    const [live, dead] = await Promise.all([read(resources.subscription), read(resources.deadSubscription)]);
    // A subscription whose topic was deleted stays attached to `_deleted-topic_`: creating the
    // topic again would not feed it, and every job (or dead letter) sent from then on would be dropped.
    for (const [sub, topic] of [
      [live, resources.topic],
      [dead, resources.deadTopic],
    ] as const) {
      if (sub && sub.topic !== topic) throw detachedSubscriptionError(shortName(sub.name ?? ''), sub.topic ?? '', topic);
    }
    // A worker subscription that is there already is checked now (it keeps its settings: a
    // create would only answer ALREADY_EXISTS).
    const info = live ? checkedInfo(state, live) : undefined;
    if (live?.topic !== resources.topic || dead?.topic !== resources.deadTopic || !info) return false;
    if (!state.infoValue) {
      state.infoValue = info;
      state.info = Promise.resolve(info);
    }
    return true;
  }

  /** Runs a lookup or delete: resolves false when the resource does not exist. */
  async function found(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw mapError(error, what);
    }
  }

  /**
   * Runs a settling call (ack, send, extend, release, deadLetter) so that `close()` waits for
   * it (bounded) before it closes the clients; one that still fails after the clients closed is
   * `CLOSED`.
   */
  function settled<T>(run: Promise<T>): Promise<T> {
    const outcome = run.catch((error: unknown) => {
      if (clientsClosed && !isBgError(error, 'CLOSED')) {
        throw new BgError('CLOSED', 'the pubsub adapter was closed before this call finished', { cause: error });
      }
      throw error;
    });
    settling.track(outcome);
    return outcome;
  }

  /**
   * Whether a resource of this queue may be touched: false when its label says it is another
   * queue (created under a longer prefix). Unlabelled resources (created before the label) are
   * taken as this prefix's. Missing ones: true.
   */
  async function ownResource(what: string, read: () => Promise<{ labels?: Record<string, string> | null }>, queue: string) {
    try {
      const owner = (await read()).labels?.[QUEUE_LABEL];
      return owner === undefined || owner === queue;
    } catch (error) {
      if (isNotFound(error)) return true;
      throw mapError(error, what);
    }
  }

  /** Every dead letter of the queue removed, in rounds of `deadLetterScanLimit`; resolves how many jobs. */
  function purgeAll(queue: string): Promise<number> {
    return deadLetters.exclusive(queue, async () => {
      const ids = new Set<string>();
      for (;;) {
        const { records, truncated } = await dead.scanAll(queue);
        try {
          await dead.backend.remove(queue, records);
        } catch (error) {
          await dead.backend.restore(queue, records).catch(() => undefined);
          throw error;
        }
        for (const r of records) ids.add(r.letter.id);
        if (!truncated) return ids.size;
      }
    });
  }

  /** {@link Adapter.receive}: pulls until something comes, `waitMs` passes or the signal aborts. */
  async function receiveOn(queue: string, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
    const state = await open(queue);
    const { max, leaseMs, waitMs } = checkReceiveOptions(capabilities, opts);
    const seconds = leaseSeconds(leaseMs);
    const signal = guard.withClose(opts.signal);
    // Aborted already: nothing to wait for, not even the subscription's first read (a first
    // call on a cold gRPC channel can take seconds).
    if (signal.aborted) return [];
    await subscriptionInfo(state);
    // Empty pulls back off from 10 ms to pollIntervalMs, across receives: quick when messages
    // are about to arrive (or another consumer is busy with them), cheap when idle. A receive
    // that does not wait pulls at once.
    return state.idle.receive(waitMs, signal, () => pullLeased(state, max, seconds, signal));
  }

  const adapter: Adapter = {
    name: 'pubsub',
    contractVersion: ADAPTER_CONTRACT_VERSION,
    capabilities,

    async ensureQueue(queue) {
      const state = await open(queue);
      const { resources } = state;
      // Every producer and worker calls this at start (missingQueue 'create'): a queue that is
      // there already costs one round of two reads, not four failing creates in two rounds.
      if (await queueInPlace(state)) return;
      const retention = { seconds: retentionSeconds };
      // Which queue each resource is, for listQueues/deleteQueue when prefixes nest.
      const labels = { [QUEUE_LABEL]: queue };
      // Two rounds of two concurrent calls, not four in a row (every worker pays this at
      // start): the topics, then the subscriptions; the worker subscription's dead-letter
      // policy needs both topics. Topic retention keeps dead letters for up to 31 days (a
      // subscription alone keeps 7).
      await Promise.all([
        create('createTopic (dead letters)', () =>
          publisher.createTopic(
            { name: resources.deadTopic, labels, messageRetentionDuration: { seconds: deadRetentionSeconds } },
            call(),
          ),
        ),
        create('createTopic', () => publisher.createTopic({ name: resources.topic, labels }, call())),
      ]);
      await Promise.all([
        create('createSubscription (dead letters)', () =>
          subscriber.createSubscription(
            {
              name: resources.deadSubscription,
              topic: resources.deadTopic,
              labels,
              ackDeadlineSeconds: DEAD_SUBSCRIPTION_ACK_DEADLINE_SECONDS,
              messageRetentionDuration: retention,
              expirationPolicy: {},
            },
            call(),
          ),
        ),
        create('createSubscription', () =>
          subscriber.createSubscription(
            {
              name: resources.subscription,
              topic: resources.topic,
              labels,
              ackDeadlineSeconds: MIN_ACK_DEADLINE_SECONDS,
              messageRetentionDuration: retention,
              // Never delete an idle queue (the default expires subscriptions after 31 idle days).
              expirationPolicy: {},
              enableExactlyOnceDelivery: exactlyOnceDelivery,
              // Needed for deliveryAttempt; also a safety net for deliveries nobody ever settles.
              deadLetterPolicy: { deadLetterTopic: resources.deadTopic, maxDeliveryAttempts },
            },
            call(),
          ),
        ),
      ]);
    },

    async queueExists(queue) {
      const { resources } = await open(queue);
      return found('getSubscription', () => subscriber.getSubscription({ subscription: resources.subscription }, call()));
    },

    async listQueues() {
      guard.assertOpen();
      const project = await projectId();
      const head = `projects/${project}/topics/${prefix}`;
      const topics: { name?: string | null; labels?: Record<string, string> | null }[] = [];
      // Page by page: google-gax's own paging (autoPaginate) with retries off never settles
      // when the client closes under it, and leaves an unhandled rejection behind.
      let pageToken = '';
      do {
        try {
          const [page, , response] = await publisher.listTopics(
            { project: `projects/${project}`, pageToken },
            { ...call(), autoPaginate: false },
          );
          topics.push(...page);
          pageToken = response?.nextPageToken ?? '';
        } catch (error) {
          throw mapError(error, 'listTopics');
        }
      } while (pageToken !== '');
      const names = new Set<string>();
      for (const topic of topics) {
        const name = topic.name ?? '';
        if (!name.startsWith(head)) continue;
        const queue = name.slice(head.length);
        // A topic labelled as another queue belongs to a longer prefix (bg-staging-emails of
        // "bg-staging-" is not "staging-emails" of "bg-").
        const owner = topic.labels?.[QUEUE_LABEL];
        if (owner !== undefined && owner !== queue) continue;
        if (QUEUE_NAME_PATTERN.test(queue)) names.add(queue);
      }
      return [...names].sort();
    },

    async deleteQueue(queue) {
      const { resources } = await open(queue);
      // Nothing is deleted when any of the four resources is labelled as another queue: then
      // they are another (longer) prefix's, and this prefix has no such queue.
      const own = await Promise.all([
        ownResource(
          'getSubscription',
          async () => (await subscriber.getSubscription({ subscription: resources.subscription }, call()))[0],
          queue,
        ),
        ownResource('getTopic', async () => (await publisher.getTopic({ topic: resources.topic }, call()))[0], queue),
        ownResource(
          'getSubscription (dead letters)',
          async () => (await subscriber.getSubscription({ subscription: resources.deadSubscription }, call()))[0],
          queue,
        ),
        ownResource(
          'getTopic (dead letters)',
          async () => (await publisher.getTopic({ topic: resources.deadTopic }, call()))[0],
          queue,
        ),
      ]);
      if (!own.every(Boolean)) return false;
      // The worker subscription first: nothing can be delivered while the rest goes.
      const gone = [
        await found('deleteSubscription', () => subscriber.deleteSubscription({ subscription: resources.subscription }, call())),
        await found('deleteTopic', () => publisher.deleteTopic({ topic: resources.topic }, call())),
        await found('deleteSubscription (dead letters)', () =>
          subscriber.deleteSubscription({ subscription: resources.deadSubscription }, call()),
        ),
        await found('deleteTopic (dead letters)', () => publisher.deleteTopic({ topic: resources.deadTopic }, call())),
      ];
      queues.delete(queue);
      return gone.some(Boolean);
    },

    send(queue, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
      return settled(sendOn(queue, messages));
    },

    async receive(queue, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
      try {
        return await receiveOn(queue, opts);
      } catch (error) {
        // A call cut short by close() (its channel closed under it) is CLOSED, not UNREACHABLE.
        if (guard.closed && !isBgError(error, 'CLOSED')) {
          throw new BgError('CLOSED', 'the pubsub adapter was closed during receive', { cause: error });
        }
        throw error;
      }
    },

    extend(queue, handle, leaseMs) {
      return settled(extendOn(queue, handle, leaseMs));
    },

    ack(queue, handle) {
      return settled(ackOn(queue, handle));
    },

    release(queue, handle, delayMs) {
      return settled(releaseOn(queue, handle, delayMs));
    },

    deadLetter(queue, message: ReceivedMessage, info: DeadLetterInfo) {
      return settled(deadLetterOn(queue, message, info));
    },

    ...deadLetters.adapterMethods((queue) => {
      guard.assertOpen();
      assertQueueName(queue);
    }),

    async purgeDeadLetters(queue, ids) {
      guard.assertOpen();
      assertQueueName(queue);
      const checked = checkPurgeIds(ids);
      // All of them: in rounds, past deadLetterScanLimit (by ids: a scan that cannot see them all fails).
      return checked === undefined ? purgeAll(queue) : deadLetters.purge(queue, checked);
    },

    async stats(queue): Promise<QueueStats> {
      await open(queue);
      // Distinct jobs in the dead-letter store; null (unknown) when it holds more than one scan reads.
      const dead = await deadLetters.exclusive(queue, () => deadCount(queue));
      // Pub/Sub's data plane does not count a backlog (Cloud Monitoring does:
      // subscription/num_undelivered_messages), nor other consumers' leases: unknown, not 0.
      return { ready: null, inFlight: null, delayed: null, dead };
    },

    async close() {
      if (!guard.close()) return;
      // Acks, extends and releases waiting for the end of this turn go out now; acks, sends and the other settling
      // calls in flight finish (bounded) before the clients close, or they would be lost.
      for (const state of queues.values()) state.settles.flush();
      // A pull in flight brings its messages back after the abort: hand them back while the
      // clients are open, or they wait out the subscription's ack deadline leased by nobody.
      await Promise.all([background.settle(CLOSE_HAND_BACK_WAIT_MS), settling.settle(Math.min(timeoutMs, CLOSE_SETTLE_WAIT_MS))]);
      clientsClosed = true;
      await clients.close();
    },
  };

  /** Distinct jobs in the queue's dead-letter store, or null when it holds more than one scan reads. */
  async function deadCount(queue: string): Promise<number | null> {
    const { records, truncated } = await dead.scanAll(queue);
    await dead.backend.restore(queue, records).catch(() => undefined);
    return truncated ? null : new Set(records.map((r) => r.letter.id)).size;
  }

  async function sendOn(queue: string, messages: readonly OutgoingMessage[]): Promise<SendResult[]> {
    const state = await open(queue);
    assertSendable(capabilities, messages);
    const encoded = messages.map((m) => {
      if (m.orderingKey !== undefined) throw new BgError('UNSUPPORTED', 'the pubsub adapter does not declare ordering');
      if (m.deduplicationKey !== undefined) {
        throw new BgError('UNSUPPORTED', 'the pubsub adapter does not declare deduplication');
      }
      const e = encodeOutgoing(m);
      if (e.bytes > MESSAGE_LIMIT_BYTES) {
        throw new BgError(
          'PAYLOAD_TOO_LARGE',
          `message ${m.id} is ${e.bytes} bytes with its attributes; the limit is ${MESSAGE_LIMIT_BYTES}`,
          {
            details: { id: m.id, bytes: e.bytes, limit: MESSAGE_LIMIT_BYTES },
          },
        );
      }
      return e;
    });
    await publish(state.resources.topic, encoded);
    state.idle.wake();
    return messages.map((m) => ({ id: m.id, duplicate: false }));
  }

  async function extendOn(queue: string, handle: LeaseHandle, leaseMs: number) {
    const state = await open(queue);
    assertHandle(handle);
    const seconds = leaseSeconds(checkLeaseMs(capabilities, leaseMs));
    if (state.leases.wasAcked(handle)) throw leaseLost(handle, 'it was acked');
    await assertLocallyOwned(state, handle);
    const startedAt = Date.now();
    const heldFrom = performance.now();
    await state.settles.settle(seconds, handle);
    const leaseExpiresAt = startedAt + seconds * 1_000;
    state.leases.set(handle, heldFrom + seconds * 1_000);
    return { handle, leaseExpiresAt };
  }

  async function ackOn(queue: string, handle: LeaseHandle): Promise<void> {
    // The hot path (a worker acks every job): no await but the acknowledge itself once the
    // queue and its subscription's settings are known.
    guard.assertOpen();
    const state = queues.get(queue) ?? (await open(queue));
    assertHandle(handle);
    if (state.leases.wasAcked(handle)) return;
    if (state.infoValue) checkLocallyOwned(state, state.infoValue, handle);
    else await assertLocallyOwned(state, handle);
    await state.settles.settle('ack', handle);
    state.leases.acked(handle);
  }

  async function releaseOn(queue: string, handle: LeaseHandle, delayMs: number): Promise<void> {
    const state = await open(queue);
    assertHandle(handle);
    const delay = checkReleaseDelayMs(capabilities, delayMs);
    if (state.leases.wasAcked(handle)) throw leaseLost(handle, 'it was acked');
    await assertLocallyOwned(state, handle);
    // The message stays leased to nobody until the deadline passes, then is redelivered.
    await state.settles.settle(Math.ceil(delay / 1_000), handle);
    state.leases.end(handle);
    if (delay === 0) state.idle.wake();
  }

  async function deadLetterOn(queue: string, message: ReceivedMessage, info: DeadLetterInfo): Promise<void> {
    const state = await open(queue);
    checkDeadLetterArgs(message, info);
    assertHandle(message.handle);
    if (state.leases.wasAcked(message.handle)) throw leaseLost(message.handle, 'it was acked');
    await assertLocallyOwned(state, message.handle);
    // Prove the lease is still ours (exactly-once rejects a stale ack id) without shortening it.
    const expiresAt = state.leases.expiresAt(message.handle);
    const seconds =
      expiresAt === undefined ? 60 : leaseSeconds(Math.max(expiresAt - performance.now(), MIN_ACK_DEADLINE_SECONDS * 1_000));
    const heldFrom = performance.now();
    await settleOne(state, message.handle, seconds, 'modifyAckDeadline');
    state.leases.set(message.handle, Math.max(expiresAt ?? 0, heldFrom + seconds * 1_000));
    try {
      await publisher.publish(
        { topic: state.resources.deadTopic, messages: [encodeDeadLetter(deadLetterRecord(message, info))] },
        call(),
      );
    } catch (error) {
      throw mapError(error, 'publish (dead letter)');
    }
  }

  // Queue and dead-letter management still running when close() comes finishes first (bounded,
  // as the settling calls: a dead-letter scan hands its records back) and, cut short, is CLOSED.
  trackManagementCalls(adapter, settled);
  return adapter;
}
