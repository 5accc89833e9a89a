import { describe, expect, it } from 'vitest';
import { type DemoFacts, type OutboxFacts, summarize } from '../src/demo-report.js';
import type { LedgerEntry } from '../src/ledger.js';

const lease = 5_000;
const killAt = 10_000;

/** A healthy run: a, b completed; k was in flight on w1 at the kill and came back; p is poison. */
function facts(overrides: Partial<DemoFacts> = {}, ledger?: LedgerEntry[]): DemoFacts {
  const base: LedgerEntry[] = [
    { e: 'start', w: 'w1', id: 'a', type: 'email.welcome', attempt: 1, t: 1_000 },
    { e: 'done', w: 'w1', id: 'a', type: 'email.welcome', attempt: 1, v: 1, detail: 'locale=en', t: 1_050 },
    { e: 'start', w: 'w1', id: 'k', type: 'image.thumbnail', attempt: 1, t: 9_900 },
    { e: 'start', w: 'w2', id: 'p', type: 'image.thumbnail', attempt: 1, t: 2_000 },
    { e: 'dead', w: 'w2', id: 'p', reason: 'permanent-error', error: 'HEIC images are not supported', t: 2_001 },
    { e: 'start', w: 'w2', id: 'b', type: 'image.thumbnail', attempt: 1, t: 19_900 },
    { e: 'back', w: 'w2', id: 'b', t: 20_000 },
    { e: 'start', w: 'w3', id: 'b', type: 'image.thumbnail', attempt: 2, t: 20_030 },
    { e: 'done', w: 'w3', id: 'b', type: 'image.thumbnail', attempt: 2, v: 1, t: 20_200 },
    { e: 'start', w: 'w3', id: 'k', type: 'image.thumbnail', attempt: 2, t: 14_500 },
    { e: 'done', w: 'w3', id: 'k', type: 'image.thumbnail', attempt: 2, v: 1, t: 14_700 },
    { e: 'start', w: 'w3', id: 'p', type: 'image.thumbnail', attempt: 1, t: 31_000 },
    { e: 'done', w: 'w3', id: 'p', type: 'image.thumbnail', attempt: 1, v: 1, t: 31_200 },
  ];
  return {
    backend: 'test',
    url: 'test:',
    queue: 'q',
    leaseMs: lease,
    graceMs: 3_000,
    signups: 3,
    signupsFailed: 0,
    expected: [
      { id: 'a', type: 'email.welcome', poison: false, legacy: true },
      { id: 'k', type: 'image.thumbnail', poison: false, legacy: false },
      { id: 'b', type: 'image.thumbnail', poison: false, legacy: false },
      { id: 'p', type: 'image.thumbnail', poison: true, legacy: false },
    ],
    ledger: ledger ?? base,
    killed: { worker: 'w1', pid: 1, at: killAt },
    recycled: { worker: 'w2', pid: 2, at: 19_950, exitedAfterMs: 100 },
    fixAt: 30_000,
    deadBeforeFix: [{ id: 'p', reason: 'permanent-error', attempts: 1, error: 'HEIC images are not supported' }],
    replayVia: 'bgctl dead replay',
    replayed: 1,
    deadAtEnd: 0,
    durationMs: 1,
    ...overrides,
  };
}

describe('the demo verdict', () => {
  it('passes a run where everything came back', () => {
    const s = summarize(facts());
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
    expect(s).toMatchObject({ ok: true, enqueued: 4, completed: 4, lost: 0, duplicates: 0, completedBeforeFix: 3 });
    expect(s.killed).toMatchObject({ inFlight: 1, cameBack: 1, afterMs: { min: 4_500, max: 4_500 } });
    expect(s.recycled).toMatchObject({ handedBack: 1, pickedUpAfterMs: { min: 30, max: 30 } });
  });

  it('fails when a job never completed (lost)', () => {
    const ledger = facts().ledger.filter((e) => !(e.e === 'done' && e.id === 'k'));
    const s = summarize(facts({}, ledger));
    expect(s.ok).toBe(false);
    expect(s.lost).toBe(1);
    expect(s.checks.find((c) => c.name === 'nothing-lost')?.ok).toBe(false);
    expect(s.checks.find((c) => c.name === 'kill-9')?.ok).toBe(false);
  });

  it("fails when the killed worker's job came back before its lease ran out", () => {
    const ledger = facts().ledger.map((e) => (e.e === 'start' && e.id === 'k' && e.w === 'w3' ? { ...e, t: killAt + 100 } : e));
    expect(summarize(facts({}, ledger)).checks.find((c) => c.name === 'kill-9')?.ok).toBe(false);
  });

  it('counts duplicate completions as at-least-once, not as a failure', () => {
    const ledger: LedgerEntry[] = [
      ...facts().ledger,
      { e: 'done', w: 'w4', id: 'a', type: 'email.welcome', attempt: 2, v: 1, detail: 'locale=en', t: 12_000 },
    ];
    const s = summarize(facts({}, ledger));
    expect(s.ok).toBe(true);
    expect(s.duplicates).toBe(1);
    expect(s.checks.find((c) => c.name === 'nothing-lost')?.text).toMatch(/at-least-once/);
  });

  it('fails when the poison was not dead-lettered or the replay left it there', () => {
    expect(summarize(facts({ deadBeforeFix: [] })).checks.find((c) => c.name === 'poison')?.ok).toBe(false);
    const s = summarize(facts({ deadAtEnd: 1 }));
    expect(s.checks.find((c) => c.name === 'replay')?.ok).toBe(false);
    expect(s.ok).toBe(false);
  });

  it('does not count a job the killed worker had just dead-lettered as lost in flight', () => {
    const ledger: LedgerEntry[] = [
      ...facts().ledger.filter((e) => !('id' in e) || e.id !== 'p'),
      // w1 dead-lettered p and acked it, then died before logging it; the replay ran it later.
      { e: 'start', w: 'w1', id: 'p', type: 'image.thumbnail', attempt: 1, t: 9_950 },
      { e: 'start', w: 'w3', id: 'p', type: 'image.thumbnail', attempt: 1, t: 31_000 },
      { e: 'done', w: 'w3', id: 'p', type: 'image.thumbnail', attempt: 1, v: 1, t: 31_200 },
    ];
    const s = summarize(facts({}, ledger));
    expect(s.checks.filter((c) => !c.ok)).toEqual([]);
    expect(s.killed).toMatchObject({ inFlight: 1, cameBack: 1 });
  });

  it('accepts a handed-back job whose restart was logged before the hand-back', () => {
    const ledger = facts().ledger.map((e) => (e.e === 'start' && e.id === 'b' && e.w === 'w3' ? { ...e, t: 19_990 } : e));
    const s = summarize(facts({}, ledger));
    expect(s.ok).toBe(true);
    expect(s.recycled.pickedUpAfterMs).toEqual({ min: 0, max: 0 });
  });
});

describe('the demo verdict on the outbox path (PostgreSQL)', () => {
  /** A healthy outbox run: 3 signups committed, r1 killed with rows waiting, the rollback left nothing. */
  const outbox = (overrides: Partial<OutboxFacts> = {}): OutboxFacts => ({
    committedSignups: 3,
    usersStored: 3,
    relayKilled: { relay: 'r1', pid: 9, at: 5_000, backlog: 4 },
    whileDown: { backlog: 7, lagMs: 1_200 },
    backlogAtEnd: 0,
    rolledBack: { userId: 'u-rb', jobIds: ['x', 'y'], userRows: 0, jobTraces: 0 },
    ...overrides,
  });
  const failing = (o: OutboxFacts): string[] =>
    summarize(facts({ outbox: o }))
      .checks.filter((c) => !c.ok)
      .map((c) => c.name);

  it('passes, and says so in plain words', () => {
    const s = summarize(facts({ outbox: outbox() }));
    expect(
      s.checks.filter((c) => !c.ok),
      'failed checks of a healthy outbox run',
    ).toEqual([]);
    expect(s.outbox, 'the outbox summary').toMatchObject({
      committedSignups: 3,
      usersStored: 3,
      signupJobs: 3,
      signupJobsCompleted: 3,
    });
    const texts = s.checks.map((c) => c.text).join('\n');
    expect(texts).toContain('committed its user row and its jobs in one transaction through the outbox');
    expect(texts).toContain('the relay r1 was killed (-9) with 4 job(s) waiting in the outbox');
    expect(texts).toContain('the signup whose transaction rolled back left nothing');
    expect(s.checks.at(-1)?.name, '"nothing lost" stays the last word').toBe('nothing-lost');
  });

  it('fails when a rolled-back job shows up, rows are left, the relay had nothing waiting, or a user row is missing', () => {
    expect(
      failing(outbox({ rolledBack: { userId: 'u', jobIds: ['x'], userRows: 0, jobTraces: 1 } })),
      'a trace of a rolled-back job',
    ).toEqual(['outbox-rollback']);
    expect(
      failing(outbox({ rolledBack: { userId: 'u', jobIds: ['x'], userRows: 1, jobTraces: 0 } })),
      'a rolled-back user row',
    ).toEqual(['outbox-rollback']);
    expect(failing(outbox({ backlogAtEnd: 2 })), 'rows left in the outbox').toEqual(['outbox-relay-kill']);
    expect(
      failing(outbox({ relayKilled: { relay: 'r1', pid: 9, at: 5_000, backlog: 0 } })),
      'nothing waiting at the kill',
    ).toEqual(['outbox-relay-kill']);
    expect(failing(outbox({ usersStored: 2 })), 'a committed signup without its user row').toEqual(['outbox-commit']);
  });
});
