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
