import { describe, expect, it } from 'vitest';
import {
  type DeadLetter,
  type DeadLetterBackend,
  DeadLetterStore,
  isBgError,
  type SectionLock,
} from '../../src/adapter/index.js';

const letter = (id: string, deadLetteredAt: number, body = id): DeadLetter => ({
  id,
  body,
  attributes: {},
  reason: 'manual',
  attempts: 1,
  deadLetteredAt,
});

interface Rec {
  readonly key: number;
  readonly letter: DeadLetter;
}

/**
 * A backend whose scan hides what it reads until restored (as a receive with a visibility
 * timeout does on SQS, Azure and Pub/Sub), with a yield between every step.
 */
function scanningBackend(letters: readonly DeadLetter[]) {
  let next = 0;
  const stored = new Map<number, DeadLetter>();
  const hidden = new Set<number>();
  const live: DeadLetter[] = [];
  for (const l of letters) stored.set(next++, l);
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  const backend: DeadLetterBackend<Rec> = {
    async scan() {
      await tick();
      const got = [...stored].filter(([k]) => !hidden.has(k)).map(([key, letter]) => ({ key, letter }));
      for (const r of got) hidden.add(r.key);
      await tick();
      return got;
    },
    letterOf: (r) => r.letter,
    async remove(_q, records) {
      await tick();
      for (const r of records) {
        stored.delete(r.key);
        hidden.delete(r.key);
      }
    },
    async restore(_q, records) {
      await tick();
      for (const r of records) hidden.delete(r.key);
    },
    async requeue(_q, l) {
      await tick();
      live.push(l);
    },
  };
  return { backend, stored, hidden, live };
}

const noLock: SectionLock = { run: (_key, fn) => fn() };

describe('DeadLetterStore over a scanning backend', () => {
  it('lists, gets, replays (live first) and purges; compacts a job dead-lettered twice', async () => {
    const { backend, stored, hidden, live } = scanningBackend([letter('a', 1, 'old'), letter('b', 2), letter('a', 3, 'new')]);
    const store = new DeadLetterStore(backend);
    const page = await store.list('q');
    expect(
      page.items.map((l) => `${l.id}:${l.body}`),
      'list: latest per job, oldest first',
    ).toEqual(['b:b', 'a:new']);
    expect(stored.size, 'the list scan removed the superseded copy of a').toBe(2);
    expect(hidden.size, 'every record kept was handed back').toBe(0);
    expect((await store.get('q', 'a'))?.body, 'get(a) is the latest').toBe('new');
    expect(await store.get('q', 'zz'), 'get of an unknown id').toBeUndefined();
    expect(await store.replay('q', 'a'), 'replay(a)').toBe(true);
    expect(
      live.map((l) => l.body),
      'replay wrote the latest record live',
    ).toEqual(['new']);
    expect(await store.replay('q', 'a'), 'second replay(a) finds nothing').toBe(false);
    expect(await store.purge('q', ['b', 'nope']), 'purge([b, nope]) counts removed jobs').toBe(1);
    expect(stored.size, 'nothing left').toBe(0);
    expect(await store.purge('q'), 'purge() of an empty store').toBe(0);
  });

  it('rejects a bad cursor or limit before any I/O', async () => {
    const { backend } = scanningBackend([]);
    let scans = 0;
    const store = new DeadLetterStore({
      ...backend,
      scan: (q, i) => {
        scans++;
        return backend.scan(q, i);
      },
    });
    for (const options of [{ cursor: 'x' }, { limit: 0 }]) {
      const error = await store.list('q', options).catch((e: unknown) => e);
      expect(isBgError(error, 'INVALID_ARGUMENT'), `list(${JSON.stringify(options)}) is INVALID_ARGUMENT`).toBe(true);
    }
    expect(scans, 'no scan for a bad argument').toBe(0);
  });

  it('two concurrent replays and purges lose no record (and the unserialised store does)', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const run = async (lock?: SectionLock) => {
      const { backend, stored, hidden, live } = scanningBackend(ids.map((id, i) => letter(id, i)));
      const store = new DeadLetterStore(backend, lock ? { lock } : {});
      const [r1, r2, p1, p2] = await Promise.all([
        store.replay('q', 'a'),
        store.replay('q', 'b'),
        store.purge('q', ['c']),
        store.purge('q', ['d']),
      ]);
      const left = [...stored.values()].map((l) => l.id).sort();
      return { answers: [r1, r2, p1, p2], left, live: live.map((l) => l.id).sort(), hidden: hidden.size };
    };
    const serialised = await run();
    expect(serialised.answers, 'replay a, replay b, purge c, purge d all find their record').toEqual([true, true, 1, 1]);
    expect(serialised.left, 'e and f stay dead letters').toEqual(['e', 'f']);
    expect(serialised.live, 'a and b are live again').toEqual(['a', 'b']);
    expect(serialised.hidden, 'nothing left hidden').toBe(0);
    const broken = await run(noLock);
    expect(broken.answers, 'without the lock a concurrent scan hides records from another call').not.toEqual([true, true, 1, 1]);
  });

  it('hands records back when the section fails, and a restore failure does not fail the call', async () => {
    const { backend, hidden } = scanningBackend([letter('a', 1), letter('b', 2)]);
    const failing = new DeadLetterStore({
      ...backend,
      requeue: async () => {
        throw new Error('live queue down');
      },
    });
    await expect(failing.replay('q', 'a'), 'replay propagates the requeue error').rejects.toThrow('live queue down');
    expect(hidden.size, 'both records handed back after the failure').toBe(0);
    const noRestore = new DeadLetterStore({
      ...backend,
      restore: async () => {
        throw new Error('restore failed');
      },
    });
    expect(await noRestore.purge('q', ['a']), 'purge succeeds although restore fails').toBe(1);
  });
});

describe('DeadLetterStore purge of all dead letters over a scan that stops short', () => {
  /** The scanning backend, its scans cut at `limit` records, with `remaining` (the records stored and not hidden). */
  function limited(count: number, limit: number) {
    const base = scanningBackend(Array.from({ length: count }, (_, i) => letter(`j${i}`, i)));
    const backend: DeadLetterBackend<Rec> = {
      ...base.backend,
      async scan(q, intent) {
        const got = await base.backend.scan(q, intent);
        const kept = got.slice(0, limit);
        for (const r of got.slice(limit)) base.hidden.delete(r.key);
        return kept;
      },
      remaining: async () => [...base.stored.keys()].filter((k) => !base.hidden.has(k)).length,
    };
    return { ...base, backend };
  }

  it('scans again until none are left, and counts each job once', async () => {
    const { backend, stored } = limited(12, 5);
    const removed = await new DeadLetterStore(backend).purge('q');
    expect({ removed, left: stored.size }, 'purge() over scans of 5 records, 12 stored').toEqual({ removed: 12, left: 0 });
  });

  it('purges by id in one scan (what it read), and without `remaining` in one scan as before', async () => {
    const byId = limited(12, 5);
    expect(await new DeadLetterStore(byId.backend).purge('q', ['j0', 'j11']), 'purge([j0, j11]): j11 is beyond one scan').toBe(1);
    const { remaining: _none, ...once } = limited(12, 5).backend;
    expect(await new DeadLetterStore(once).purge('q'), 'a backend without remaining: one scan').toBe(5);
  });

  it('stops at as many as were stored when it began: dead letters written meanwhile do not keep it going', async () => {
    const { backend, stored } = limited(6, 2);
    let added = 0;
    const store = new DeadLetterStore({
      ...backend,
      async remove(q, records) {
        await backend.remove(q, records);
        // Every removal is followed by two new dead letters (a poison flood while purging).
        for (let i = 0; i < 2; i++) stored.set(1_000 + added++, letter(`new${added}`, 1_000 + added));
      },
    });
    const removed = await store.purge('q');
    expect(removed, 'purge() removed the 6 there at the start (in rounds of 2), then stopped').toBe(6);
    expect(stored.size, 'the dead letters written meanwhile are left').toBe(6);
  });
});

describe('DeadLetterStore over a random-access backend', () => {
  it('uses find for get, replay and purge by ids, and does not lock reads', async () => {
    const map = new Map<string, DeadLetter>([
      ['a', letter('a', 1)],
      ['b', letter('b', 2)],
    ]);
    let scans = 0;
    const requeued: string[] = [];
    const store = new DeadLetterStore<DeadLetter>({
      scan: async () => {
        scans++;
        return [...map.values()];
      },
      letterOf: (l) => l,
      remove: async (_q, records) => {
        for (const r of records) if (map.get(r.id) === r) map.delete(r.id);
      },
      requeue: async (_q, l) => {
        requeued.push(l.id);
      },
      find: async (_q, id) => {
        const l = map.get(id);
        return l ? [l] : [];
      },
    });
    expect((await store.get('q', 'b'))?.id, 'get(b)').toBe('b');
    expect(await store.replay('q', 'a'), 'replay(a)').toBe(true);
    expect(await store.purge('q', ['b', 'b', 'x']), 'purge([b, b, x])').toBe(1);
    expect(scans, 'no scan needed').toBe(0);
    expect(requeued, 'requeued a').toEqual(['a']);
    expect((await store.list('q')).items, 'empty after').toEqual([]);
    const opened: string[] = [];
    const methods = store.adapterMethods((queue) => {
      if (queue === 'closed') throw new Error('closed');
      opened.push(queue);
    });
    map.set('c', letter('c', 3));
    expect(
      (await methods.listDeadLetters('q', { limit: 1 })).items.map((l) => l.id),
      'adapterMethods.listDeadLetters',
    ).toEqual(['c']);
    expect((await methods.getDeadLetter('q', 'c'))?.id, 'adapterMethods.getDeadLetter').toBe('c');
    expect(await methods.replayDeadLetter('q', 'c'), 'adapterMethods.replayDeadLetter').toBe(true);
    expect(await methods.purgeDeadLetters('q'), 'adapterMethods.purgeDeadLetters').toBe(0);
    expect(opened, 'open(queue) runs first on every call').toEqual(['q', 'q', 'q', 'q']);
    await expect(methods.getDeadLetter('closed', 'c'), 'an open() failure rejects').rejects.toThrow('closed');
  });
});
