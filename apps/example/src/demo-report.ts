/**
 * Turns what the demo saw (the jobs it enqueued, the workers' ledgers, the dead letters, the
 * kill and the recycle) into its verdict: checks with human sentences and one JSON summary.
 * @module
 */
import type { LedgerEntry } from './ledger.js';

/** A job the demo knows it enqueued (from the service's answers, or its own legacy enqueue). */
export interface ExpectedJob {
  readonly id: string;
  readonly type: string;
  /** Its avatar is a `.heic` image: dead-lettered until the fix. */
  readonly poison: boolean;
  /** Enqueued at payload version 1 by the "old release". */
  readonly legacy: boolean;
}

/** A dead letter as the backend listed it. */
export interface SeenDeadLetter {
  readonly id: string;
  readonly reason: string;
  readonly attempts: number;
  readonly error: string;
}

/** A worker process the demo stopped, and when. */
export interface StoppedWorker {
  readonly worker: string;
  readonly pid: number;
  /** `Date.now()` when the signal was sent. */
  readonly at: number;
}

/** What the demo saw of the transactional outbox (PostgreSQL only). */
export interface OutboxFacts {
  /** Signups the service answered 202: each committed its user row and its jobs in one transaction. */
  readonly committedSignups: number;
  /** Rows of those users found in the users table at the end. */
  readonly usersStored: number;
  /** The relay killed with SIGKILL, when, and the outbox's backlog at that instant. */
  readonly relayKilled: { readonly relay: string; readonly pid: number; readonly at: number; readonly backlog: number };
  /** The outbox's backlog and lag while no relay ran (just before the next relay started). */
  readonly whileDown: { readonly backlog: number; readonly lagMs: number };
  /** Rows left in the outbox at the end (0: everything was relayed). */
  readonly backlogAtEnd: number;
  /** The signup whose transaction rolled back after its jobs were written. */
  readonly rolledBack: {
    readonly userId: string;
    readonly jobIds: readonly string[];
    /** Its user rows found at the end (must be 0). */
    readonly userRows: number;
    /** Traces of its jobs found anywhere at the end: outbox, queue, dead letters, ledgers (must be 0). */
    readonly jobTraces: number;
  };
}

/** Everything the demo observed. */
export interface DemoFacts {
  readonly backend: string;
  readonly url: string;
  readonly queue: string;
  readonly leaseMs: number;
  readonly graceMs: number;
  readonly signups: number;
  readonly signupsFailed: number;
  readonly expected: readonly ExpectedJob[];
  readonly ledger: readonly LedgerEntry[];
  readonly killed: StoppedWorker;
  readonly recycled: StoppedWorker & { readonly exitedAfterMs: number };
  /** `Date.now()` when the fix was deployed (the dead letters were listed just before). */
  readonly fixAt: number;
  /** Dead letters listed before the fix. */
  readonly deadBeforeFix: readonly SeenDeadLetter[];
  /** How the dead letters were replayed. */
  readonly replayVia: string;
  readonly replayed: number;
  /** Dead letters left at the end. */
  readonly deadAtEnd: number;
  readonly durationMs: number;
  /** The outbox path, when the demo ran it (PostgreSQL). */
  readonly outbox?: OutboxFacts;
}

/** One verdict line. */
export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly text: string;
}

/** A min/max pair of durations, ms (null when there was nothing to measure). */
export type Span = { readonly min: number; readonly max: number } | null;

/** The demo's machine-readable verdict (printed as its last line). */
export interface DemoSummary {
  readonly bgDemo: 1;
  readonly ok: boolean;
  readonly backend: string;
  readonly queue: string;
  readonly durationMs: number;
  readonly signups: number;
  readonly enqueued: number;
  /** Distinct enqueued jobs whose handler finished (at the end, after the replay). */
  readonly completed: number;
  /** Enqueued jobs neither completed nor dead-lettered at the end. */
  readonly lost: number;
  /** Extra completions of jobs already completed (at-least-once). */
  readonly duplicates: number;
  /** Completions of jobs the demo did not enqueue (should be 0). */
  readonly unexpected: number;
  readonly completedBeforeFix: number;
  readonly deadLettered: number;
  readonly deadReasons: Readonly<Record<string, number>>;
  readonly replayVia: string;
  readonly replayed: number;
  readonly replayedCompleted: number;
  readonly deadAtEnd: number;
  readonly killed: {
    readonly worker: string;
    readonly inFlight: number;
    readonly cameBack: number;
    readonly afterMs: Span;
    readonly leaseMs: number;
  };
  readonly recycled: {
    readonly worker: string;
    readonly finishedInGrace: number;
    readonly handedBack: number;
    readonly pickedUpAfterMs: Span;
    readonly exitedAfterMs: number;
    readonly graceMs: number;
  };
  readonly legacyV1: number;
  readonly migratedV1: number;
  /** The outbox path (PostgreSQL only). */
  readonly outbox?: {
    readonly committedSignups: number;
    readonly usersStored: number;
    /** Jobs of committed signups whose handler ran. */
    readonly signupJobsCompleted: number;
    readonly signupJobs: number;
    readonly relayKilled: { readonly relay: string; readonly backlog: number };
    readonly whileDown: { readonly backlog: number; readonly lagMs: number };
    readonly backlogAtEnd: number;
    readonly rolledBack: { readonly jobs: number; readonly userRows: number; readonly jobTraces: number };
  };
  readonly checks: readonly DemoCheck[];
}

type Done = Extract<LedgerEntry, { e: 'done' }>;

function span(values: readonly number[]): Span {
  if (values.length === 0) return null;
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** `1.2 s` */
export function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)} s`;
}

function spanText(s: Span): string {
  if (!s) return '—';
  return seconds(s.min) === seconds(s.max) ? seconds(s.max) : `${seconds(s.min)}–${seconds(s.max)}`;
}

function msSpanText(s: Span): string {
  if (!s) return '—';
  return s.min === s.max ? `${s.min} ms` : `${s.min}–${s.max} ms`;
}

/** Judges the demo run. */
export function summarize(facts: DemoFacts): DemoSummary {
  const expectedById = new Map(facts.expected.map((job) => [job.id, job]));
  const dones = facts.ledger.filter((entry): entry is Done => entry.e === 'done');
  const doneById = new Map<string, Done[]>();
  for (const done of dones) {
    const list = doneById.get(done.id);
    if (list) list.push(done);
    else doneById.set(done.id, [done]);
  }
  for (const list of doneById.values()) list.sort((a, b) => a.t - b.t);
  const first = (id: string): Done | undefined => doneById.get(id)?.[0];

  const completed = facts.expected.filter((job) => doneById.has(job.id)).length;
  const deadIdsBefore = new Set(facts.deadBeforeFix.map((d) => d.id));
  // Not completed and not waiting in the dead letters either: gone.
  const lost = Math.max(0, facts.expected.length - completed - facts.deadAtEnd);
  const duplicates = [...doneById.values()].reduce((n, list) => n + list.length - 1, 0);
  const unexpected = [...doneById.keys()].filter((id) => !expectedById.has(id)).length;

  const poison = facts.expected.filter((job) => job.poison);
  const completedBeforeFix = facts.expected.filter((job) => (first(job.id)?.t ?? Number.POSITIVE_INFINITY) < facts.fixAt).length;
  const deadReasons: Record<string, number> = {};
  for (const dead of facts.deadBeforeFix) deadReasons[dead.reason] = (deadReasons[dead.reason] ?? 0) + 1;
  const replayedCompleted = poison.filter((job) => doneById.has(job.id)).length;

  // The killed worker: jobs it started and never finished came back after their lease.
  const killedStarts = new Map<string, number>();
  for (const entry of facts.ledger) {
    if (entry.w !== facts.killed.worker) continue;
    if (entry.e === 'start') killedStarts.set(entry.id, entry.t);
    if (entry.e === 'done' || entry.e === 'dead' || entry.e === 'back') killedStarts.delete(entry.id);
  }
  // A job it dead-lettered (record written, original acked) just before the kill, with no time
  // left to log it, is not in flight: it waits in the dead letters, which is where it belongs.
  const deadBeforeKill = [...killedStarts.keys()].filter(
    (id) =>
      deadIdsBefore.has(id) &&
      !facts.ledger.some((e) => e.e === 'start' && e.id === id && e.w !== facts.killed.worker && e.t < facts.fixAt),
  );
  const orphans = [...killedStarts.keys()].filter((id) => !deadBeforeKill.includes(id));
  const cameBackAfter: number[] = [];
  for (const id of orphans) {
    const restarted = facts.ledger.find(
      (e) => e.e === 'start' && e.id === id && e.w !== facts.killed.worker && e.t >= facts.killed.at,
    );
    const finished =
      doneById.get(id)?.some((d) => d.w !== facts.killed.worker) ||
      facts.ledger.some((e) => e.e === 'dead' && e.id === id && e.w !== facts.killed.worker);
    if (restarted && finished) cameBackAfter.push(restarted.t - facts.killed.at);
  }

  // The recycled worker: finished within the grace period, or handed back at once.
  const recycledName = facts.recycled.worker;
  const finishedInGrace = dones.filter((d) => d.w === recycledName && d.t >= facts.recycled.at).length;
  const handedBack = facts.ledger.filter((e): e is Extract<LedgerEntry, { e: 'back' }> => e.e === 'back' && e.w === recycledName);
  const pickedUpAfter: number[] = [];
  for (const back of handedBack) {
    // The release happens before the worker logs it, so another worker may log its start first.
    const startedHere = facts.ledger.filter((e) => e.e === 'start' && e.id === back.id && e.w === recycledName);
    const since = Math.max(...startedHere.map((e) => e.t), 0);
    const restarted = facts.ledger.find((e) => e.e === 'start' && e.id === back.id && e.w !== recycledName && e.t >= since);
    if (restarted && doneById.has(back.id)) pickedUpAfter.push(Math.max(0, restarted.t - back.t));
  }

  const legacy = facts.expected.filter((job) => job.legacy);
  const migrated = legacy.filter((job) => {
    const done = first(job.id);
    return done !== undefined && done.v === 1 && done.detail === 'locale=en';
  }).length;

  const killedSpan = span(cameBackAfter);
  const pickedSpan = span(pickedUpAfter);
  const deadIdsMatch = facts.deadBeforeFix.length === poison.length && poison.every((job) => deadIdsBefore.has(job.id));
  const deadAllPermanent = facts.deadBeforeFix.every((d) => d.reason === 'permanent-error' && /HEIC/.test(d.error));
  const dupIds = [...doneById.entries()].filter(([, list]) => list.length > 1);
  const dupByKill = dupIds.filter(([, list]) => list[0]?.w === facts.killed.worker).length;
  const dupCause =
    dupByKill === dupIds.length
      ? `${facts.killed.worker} finished ${dupByKill === 1 ? 'it' : 'them'} and was killed before the ack reached the queue, so ${dupByKill === 1 ? 'it' : 'they'} ran again after the lease`
      : `${dupByKill} finished by ${facts.killed.worker} just before the kill, ${dupIds.length - dupByKill} redelivered after an ack or lease was lost`;
  const dupText =
    duplicates === 0
      ? 'no duplicates this time'
      : `${duplicates} duplicate completion(s), which at-least-once delivery allows: ${dupCause}; handlers must be idempotent (key side effects by job id)`;

  const checks: DemoCheck[] = [
    {
      name: 'signups',
      ok: facts.signupsFailed === 0,
      text:
        facts.signupsFailed === 0
          ? `all ${facts.signups} signups were answered 202 and their jobs stored`
          : `${facts.signupsFailed} of ${facts.signups} signups failed`,
    },
    {
      name: 'kill-9',
      ok: orphans.length > 0 && cameBackAfter.length === orphans.length && (killedSpan?.min ?? 0) >= facts.leaseMs * 0.4,
      text:
        orphans.length === 0
          ? `${facts.killed.worker} had no job in flight when it was killed`
          : `${facts.killed.worker} was killed (-9) with ${orphans.length} job(s) in flight: ${cameBackAfter.length} came back after their lease (${spanText(killedSpan)} after the kill; lease ${seconds(facts.leaseMs)}) and completed${deadBeforeKill.length > 0 ? ` (and ${deadBeforeKill.length} it had just dead-lettered stayed in the dead letters)` : ''}`,
    },
    {
      name: 'sigterm',
      ok: pickedUpAfter.length === handedBack.length && (pickedSpan?.max ?? 0) < facts.leaseMs,
      text: `${recycledName} got SIGTERM (grace ${seconds(facts.graceMs)}): ${finishedInGrace} job(s) finished within the grace period, ${handedBack.length} handed back at once, without waiting for a lease, and picked up by another worker ${msSpanText(pickedSpan)} later; it exited after ${seconds(facts.recycled.exitedAfterMs)}`,
    },
    {
      name: 'migration',
      ok: migrated === legacy.length,
      text: `${migrated} of ${legacy.length} welcome emails enqueued at v1 by the old release were migrated to v2 (locale "en") before their handler ran`,
    },
    {
      name: 'poison',
      ok: poison.length > 0 && deadIdsMatch && deadAllPermanent,
      text: `${facts.deadBeforeFix.length} job(s) in the dead letters (${Object.entries(deadReasons)
        .map(([r, n]) => `${n} ${r}`)
        .join(', ')}), exactly the ${poison.length} .heic avatar(s); the rest kept flowing`,
    },
    {
      name: 'accounting',
      ok: completedBeforeFix + facts.deadBeforeFix.length === facts.expected.length,
      text: `before the fix: ${completedBeforeFix} completed + ${facts.deadBeforeFix.length} dead-lettered = ${completedBeforeFix + facts.deadBeforeFix.length} of ${facts.expected.length} enqueued`,
    },
    {
      name: 'replay',
      ok: facts.replayed === poison.length && replayedCompleted === poison.length && facts.deadAtEnd === 0,
      text: `after the fix, ${facts.replayVia} brought back ${facts.replayed} job(s): ${replayedCompleted} completed, ${facts.deadAtEnd} dead letter(s) left`,
    },
    {
      name: 'nothing-lost',
      ok: completed === facts.expected.length && lost === 0 && unexpected === 0 && facts.signupsFailed === 0,
      text: `nothing lost: ${completed} of ${facts.expected.length} enqueued jobs completed; ${dupText}`,
    },
  ];

  const outbox = facts.outbox;
  const signupJobs = facts.expected.filter((job) => !job.legacy);
  const signupJobsCompleted = signupJobs.filter((job) => doneById.has(job.id)).length;
  if (outbox) {
    // Before the last check ("nothing lost"), which sums everything up.
    checks.splice(
      checks.length - 1,
      0,
      {
        name: 'outbox-commit',
        ok:
          outbox.committedSignups > 0 &&
          outbox.usersStored === outbox.committedSignups &&
          signupJobsCompleted === signupJobs.length,
        text: `each of the ${outbox.committedSignups} signups committed its user row and its jobs in one transaction through the outbox: ${outbox.usersStored} user rows stored, ${signupJobsCompleted} of their ${signupJobs.length} jobs ran`,
      },
      {
        name: 'outbox-relay-kill',
        ok: outbox.relayKilled.backlog > 0 && outbox.backlogAtEnd === 0,
        text: `the relay ${outbox.relayKilled.relay} was killed (-9) with ${outbox.relayKilled.backlog} job(s) waiting in the outbox; while no relay ran the backlog grew to ${outbox.whileDown.backlog} (oldest ${seconds(outbox.whileDown.lagMs)}), the next relay forwarded them all, and ${outbox.backlogAtEnd} row(s) are left in the outbox`,
      },
      {
        name: 'outbox-rollback',
        ok: outbox.rolledBack.jobIds.length > 0 && outbox.rolledBack.userRows === 0 && outbox.rolledBack.jobTraces === 0,
        text: `the signup whose transaction rolled back left nothing: ${outbox.rolledBack.userRows} user row(s), and its ${outbox.rolledBack.jobIds.length} job(s) never existed (${outbox.rolledBack.jobTraces} trace(s) in the outbox, the queue, the dead letters or any worker's ledger)`,
      },
    );
  }

  return {
    bgDemo: 1,
    ok: checks.every((c) => c.ok),
    backend: facts.backend,
    queue: facts.queue,
    durationMs: facts.durationMs,
    signups: facts.signups,
    enqueued: facts.expected.length,
    completed,
    lost,
    duplicates,
    unexpected,
    completedBeforeFix,
    deadLettered: facts.deadBeforeFix.length,
    deadReasons,
    replayVia: facts.replayVia,
    replayed: facts.replayed,
    replayedCompleted,
    deadAtEnd: facts.deadAtEnd,
    killed: {
      worker: facts.killed.worker,
      inFlight: orphans.length,
      cameBack: cameBackAfter.length,
      afterMs: killedSpan,
      leaseMs: facts.leaseMs,
    },
    recycled: {
      worker: recycledName,
      finishedInGrace,
      handedBack: handedBack.length,
      pickedUpAfterMs: pickedSpan,
      exitedAfterMs: facts.recycled.exitedAfterMs,
      graceMs: facts.graceMs,
    },
    legacyV1: legacy.length,
    migratedV1: migrated,
    ...(outbox
      ? {
          outbox: {
            committedSignups: outbox.committedSignups,
            usersStored: outbox.usersStored,
            signupJobsCompleted,
            signupJobs: signupJobs.length,
            relayKilled: { relay: outbox.relayKilled.relay, backlog: outbox.relayKilled.backlog },
            whileDown: outbox.whileDown,
            backlogAtEnd: outbox.backlogAtEnd,
            rolledBack: {
              jobs: outbox.rolledBack.jobIds.length,
              userRows: outbox.rolledBack.userRows,
              jobTraces: outbox.rolledBack.jobTraces,
            },
          },
        }
      : {}),
    checks,
  };
}
