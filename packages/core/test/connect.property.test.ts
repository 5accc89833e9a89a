import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BgError, connect, isBgError } from '../src/index.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_129);
const notInstalled = async (): Promise<never> => {
  throw Object.assign(new Error('Cannot find package'), { code: 'ERR_MODULE_NOT_FOUND' });
};

describe('property: connect(any text with a password) fails typed and never echoes the password', () => {
  it('holds for generated URL-ish strings', async () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{12,20}$/).map((s) => `Zz${s}`);
    const scheme = fc.constantFrom('redis', 'rediss', 'sqs', 'azure-queue', 'pubsub', 'memory', 'ftp', 'x y', '');
    const port = fc.oneof(
      fc.constantFrom('', ':0', ':65536', ':99999', ':abc', ':-1'),
      fc.nat(70_000).map((n) => `:${n}`),
    );
    const junk = fc.string({ maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(scheme, password, port, junk, fc.boolean(), async (s, pw, p, tail, encodeAt) => {
        const user = encodeAt ? `u%40:${pw}` : `:${pw}`;
        const text = `${s}://${user}@127.0.0.1${p}/${tail}`;
        try {
          await connect(text, { load: notInstalled });
          throw new Error('connect succeeded without an adapter package');
        } catch (error) {
          expect(isBgError(error), `connect(${text.replace(pw, '…')}) threw ${String(error)}`).toBe(true);
          expect(['INVALID_ARGUMENT', 'ADAPTER_NOT_INSTALLED']).toContain((error as BgError).code);
          for (const t of [String(error), JSON.stringify(error), (error as Error).stack ?? '']) {
            expect(t, `connect(${text.replace(pw, '…')}) echoed the password`).not.toContain(pw);
          }
        }
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});
