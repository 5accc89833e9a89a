import { connect, isBgError } from '@bg/core';
import { describe, expect, it } from 'vitest';
import { fromUrl, parsePostgresUrl } from '../src/index.js';

const SECRET = 'pgS3cretPw';

describe('postgres URL validation (nothing connects)', () => {
  const bad: [string, string, RegExp][] = [
    ['another scheme', `mysql://app:${SECRET}@h:5432/app`, /scheme must be postgres/],
    ['no host', 'postgres:///app', /a host is needed/],
    ['port 0', `postgres://app:${SECRET}@h:0/app`, /port must be 1-65535/],
    ['no database', `postgres://app:${SECRET}@h:5432`, /one database name/],
    ['a nested path', `postgres://app:${SECRET}@h:5432/app/x`, /one database name/],
    ['an unknown parameter', `postgres://app:${SECRET}@h:5432/app?shema=bg`, /unknown parameter "shema"/],
    ['a repeated parameter', `postgres://app:${SECRET}@h:5432/app?schema=a&schema=b`, /"schema" is given more than once/],
    ['a bad schema', `postgres://app:${SECRET}@h:5432/app?schema=Bad-Name`, /parameter "schema"/],
    ['a bad poolSize', `postgres://app:${SECRET}@h:5432/app?poolSize=0`, /parameter "poolSize"/],
    ['a bad sslmode', `postgres://app:${SECRET}@h:5432/app?sslmode=maybe`, /parameter "sslmode"/],
    ['a fragment', `postgres://app:${SECRET}@h:5432/app#x`, /fragment/],
  ];
  for (const [what, url, message] of bad) {
    it(`fromUrl with ${what} is INVALID_ARGUMENT, not retryable, naming the part, never the password`, () => {
      let error: unknown;
      try {
        fromUrl(new URL(url));
      } catch (e) {
        error = e;
      }
      expect(
        isBgError(error, 'INVALID_ARGUMENT'),
        `fromUrl(${what}): expected BgError INVALID_ARGUMENT, got ${String(error)}`,
      ).toBe(true);
      expect((error as { retryable: boolean }).retryable, `fromUrl(${what}).retryable`).toBe(false);
      expect(String(error), `fromUrl(${what}) message`).toMatch(message);
      expect(`${String(error)} ${(error as Error).stack ?? ''}`, `fromUrl(${what}): the password must not appear`).not.toContain(
        SECRET,
      );
    });
  }

  it('a good URL keeps user, password, host and database for node-postgres and takes out the parameters bg reads', () => {
    const parsed = parsePostgresUrl(new URL(`postgresql://app:${SECRET}@db:6543/jobs?schema=work&poolSize=4&sslmode=require`));
    expect(parsed, 'parsePostgresUrl(good URL)').toEqual({
      connectionString: `postgresql://app:${SECRET}@db:6543/jobs?sslmode=require`,
      schema: 'work',
      poolSize: 4,
    });
  });

  it('connect() loads @bg/postgres for postgres: and postgresql: URLs', async () => {
    for (const scheme of ['postgres', 'postgresql']) {
      const adapter = await connect(`${scheme}://app@127.0.0.1:1/app`);
      expect(adapter.name, `connect(${scheme}://…).name`).toBe('postgres');
      await adapter.close();
    }
  });
});
