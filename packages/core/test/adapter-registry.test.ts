import { afterEach, describe, expect, it } from 'vitest';
import {
  ADAPTER_CONTRACT_VERSION,
  ADAPTER_PACKAGES,
  type Adapter,
  type BgError,
  connect,
  isBgError,
  normalizeScheme,
  registerAdapter,
  registeredSchemes,
  unregisterAdapter,
} from '../src/index.js';

/** A stand-in adapter: connect() only checks the contract version and that `send` exists. */
function fakeAdapter(name: string): Adapter {
  return { name, contractVersion: ADAPTER_CONTRACT_VERSION, send: async () => [] } as unknown as Adapter;
}

async function rejection(promise: Promise<unknown>): Promise<BgError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBgError(error), `expected a BgError, got ${String(error)}`).toBe(true);
  return error as BgError;
}

const schemes = ['fsq:', 'other-q:', 'redis:'];
afterEach(() => {
  for (const s of schemes) unregisterAdapter(s);
});

describe('registerAdapter and connect()', () => {
  it('connect() uses a registered module, a loader function or a package name', async () => {
    const seen: string[] = [];
    registerAdapter('fsq:', {
      fromUrl: (url) => {
        seen.push(url.href);
        return fakeAdapter('fsq');
      },
    });
    expect((await connect('fsq:///tmp/queues')).name, 'connect(fsq:) with a registered module').toBe('fsq');
    expect(seen, 'fromUrl receives the parsed URL').toEqual(['fsq:///tmp/queues']);

    registerAdapter('other-q', async () => ({ fromUrl: () => fakeAdapter('loaded') }));
    expect((await connect('other-q://x')).name, 'connect(other-q:) through a loader function').toBe('loaded');
    unregisterAdapter('other-q:');

    const asked: string[] = [];
    registerAdapter('other-q:', 'bg-adapter-other');
    const byName = await connect('other-q://x', {
      load: async (name) => {
        asked.push(name);
        return { fromUrl: () => fakeAdapter('by-name') };
      },
    });
    expect(byName.name, 'connect(other-q:) through a package name and the load option').toBe('by-name');
    expect(asked, 'the load option is asked for the registered package').toEqual(['bg-adapter-other']);
  });

  it('is consulted before the built-in table, which stays frozen', async () => {
    registerAdapter('redis:', { fromUrl: () => fakeAdapter('my-redis') });
    expect((await connect('redis://127.0.0.1:1')).name, 'a registered redis: replaces @bg/redis').toBe('my-redis');
    expect(Object.isFrozen(ADAPTER_PACKAGES), 'ADAPTER_PACKAGES is frozen').toBe(true);
    expect(ADAPTER_PACKAGES['fsq:'], 'registering never adds to the built-in table').toBeUndefined();
  });

  it('registering the same source twice is harmless; a different one is an error', () => {
    const mod = { fromUrl: () => fakeAdapter('fsq') };
    registerAdapter('fsq:', mod);
    registerAdapter('fsq', mod);
    expect(registeredSchemes()).toContain('fsq:');
    let error: unknown;
    try {
      registerAdapter('fsq:', { fromUrl: () => fakeAdapter('other') });
    } catch (e) {
      error = e;
    }
    expect(isBgError(error) && error.code, 'second different registration of fsq:').toBe('INVALID_ARGUMENT');
    expect(String((error as Error).message)).toContain('already registered');
    expect(String((error as Error).message)).toContain('unregisterAdapter("fsq:")');
    expect(unregisterAdapter('fsq:'), 'unregister of a registered scheme').toBe(true);
    expect(unregisterAdapter('fsq:'), 'unregister twice').toBe(false);
  });

  it('validates scheme names and sources', () => {
    expect(normalizeScheme('fsq')).toBe('fsq:');
    expect(normalizeScheme('my-q+tls:')).toBe('my-q+tls:');
    for (const bad of ['', ':', 'FSQ:', '1q:', 'fsq://', 'f q:', 'fsq::']) {
      expect(() => registerAdapter(bad, { fromUrl: () => fakeAdapter('x') }), `registerAdapter(${JSON.stringify(bad)})`).toThrow(
        /invalid URL scheme/,
      );
    }
    expect(() => registerAdapter('fsq:', {} as never), 'a source without fromUrl').toThrow(/fromUrl/);
    expect(() => registerAdapter('fsq:', '' as never), 'an empty package name').toThrow(/fromUrl/);
  });

  it('an unknown scheme says how to register or install an adapter', async () => {
    const error = await rejection(connect('nope://x'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.retryable).toBe(false);
    for (const words of ['unknown backend scheme "nope:"', 'memory:', 'registerAdapter(', 'bgctl --adapter', 'BGCTL_ADAPTERS']) {
      expect(error.message, `connect('nope://x') error message`).toContain(words);
    }
  });

  it('a registered loader that cannot find its package is ADAPTER_NOT_INSTALLED; no fromUrl is CONTRACT_MISMATCH', async () => {
    registerAdapter('fsq:', () => import(/* @vite-ignore */ `bg-adapter-missing-${Date.now()}`));
    const missing = await rejection(connect('fsq:///x'));
    expect(missing.code, 'connect(fsq:) with a loader of a missing package').toBe('ADAPTER_NOT_INSTALLED');
    expect(missing.retryable).toBe(false);
    unregisterAdapter('fsq:');
    registerAdapter('fsq:', async () => ({ somethingElse: true }));
    const mismatch = await rejection(connect('fsq:///x'));
    expect(mismatch.code, 'connect(fsq:) with a module without fromUrl').toBe('CONTRACT_MISMATCH');
  });

  it('one registry is shared by every copy of @bg/core in the process', async () => {
    const copy = new URL(`../dist/index.js?copy=${Date.now()}`, import.meta.url).href;
    const other = (await import(/* @vite-ignore */ copy)) as typeof import('../src/index.js');
    other.registerAdapter('fsq:', { fromUrl: () => fakeAdapter('from-copy') });
    expect((await connect('fsq:///x')).name, 'a scheme registered through another copy of @bg/core').toBe('from-copy');
  });
});
