import { type BgError, connect, isBgError } from '@bg/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromUrl } from '../src/index.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_129);

function expectConfigError(error: unknown, call: string, names: RegExp, secret?: string): void {
  expect(isBgError(error, 'INVALID_ARGUMENT'), `${call}: INVALID_ARGUMENT expected, got ${String(error)}`).toBe(true);
  expect((error as BgError).retryable, `${call}: a configuration error is never retryable`).toBe(false);
  expect((error as BgError).message, `${call}: the message names what is wrong`).toMatch(names);
  if (secret !== undefined) {
    for (const text of [String(error), JSON.stringify(error), (error as Error).stack ?? '']) {
      expect(text, `${call}: the secret leaked`).not.toContain(secret);
    }
  }
}

describe('memory URLs', () => {
  it('accepts memory:, memory://name and memory:name; one store per name', async () => {
    for (const url of ['memory:', 'memory://', 'memory://jobs', 'memory:jobs', 'memory://jobs/', 'memory:///jobs']) {
      const adapter = await connect(url);
      expect(adapter.name, `connect(${url})`).toBe('memory');
      await adapter.close();
    }
    const a = fromUrl(new URL('memory://shared-store'));
    const b = fromUrl(new URL('memory:shared-store'));
    await a.ensureQueue('shared');
    await a.send('shared', [{ id: 'm1', body: 'x' }]);
    expect((await b.stats('shared')).ready, 'memory://n and memory:n are the same store').toBe(1);
    await a.close();
    await b.close();
  });

  const bad: readonly [string, RegExp][] = [
    ['memory://user:hunter2Secret@jobs', /credentials/],
    ['memory://jobs:1', /port/],
    ['memory://jobs?size=1', /no parameters/],
    ['memory://jobs#x', /no parameters or #fragment/],
    ['memory://jobs/more', /nothing may follow/],
    ['memory:a%20b', /store name/],
  ];
  for (const [input, names] of bad) {
    it(`rejects ${input.replace('hunter2Secret', '…')}`, async () => {
      let error: unknown;
      try {
        await connect(input);
      } catch (e) {
        error = e;
      }
      expectConfigError(error, `connect(${input.replace('hunter2Secret', '…')})`, names, 'hunter2Secret');
    });
  }

  it('property: any memory URL gives an adapter or INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.constantFrom('memory:', 'memory://', 'memory:///'), (tail, head) => {
        let url: URL;
        try {
          url = new URL(`${head}${tail}`);
        } catch {
          return;
        }
        try {
          void fromUrl(url).close();
        } catch (error) {
          expectConfigError(error, `fromUrl(${url})`, /memory URL/);
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});
