import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBg, runShell } from './helpers.js';

const cliPackage = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// memory: URLs are in-process only: a subprocess sees its own empty store.
describe('bgctl on memory: and the command line (subprocess)', () => {
  it('bgctl is a command a shell finds by name (not the bg job-control builtin)', async () => {
    const run = await runShell('command -v bgctl && bgctl --version && bgctl --help');
    expect(run.stderr, 'sh -c "bgctl --help"').toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/bgctl\n/);
    expect(run.stdout, 'bgctl --version prints the installed package.json version').toContain(`bgctl ${cliPackage.version}\n`);
    expect(run.stdout).toContain('Usage: bgctl <command>');
    const usage = await runBg(['stats', 'memory:', '--bogus']);
    expect(usage.stderr, 'errors name the command').toMatch(/^bgctl: .*\nRun `bgctl stats --help` for usage\.\n$/);
  });

  it('--help explains every command with an example; no command is a usage error', async () => {
    const help = await runBg(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['stats', 'queue', 'dead', 'move', 'enqueue', 'schema', 'Exit codes', 'BG_NO_WARNINGS']) {
      expect(help.stdout).toContain(word);
    }
    for (const command of ['stats', 'queue', 'dead', 'move', 'enqueue', 'schema']) {
      const sub = await runBg([command, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/Example/);
    }
    expect((await runBg([])).code).toBe(2);
  });

  it('stats of empty queues, as a table and as JSON', async () => {
    const table = await runBg(['stats', 'memory:', '--queue', 'alpha,beta']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^QUEUE\s+READY\s+IN FLIGHT\s+DELAYED\s+DEAD$/);
    expect(table.stdout).toMatch(/alpha\s+0\s+0\s+0\s+0/);
    const json = await runBg(['stats', 'memory:', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      backend: 'memory:',
      queues: [{ queue: 'default', ready: 0, inFlight: 0, delayed: 0, dead: 0 }],
    });
  });

  it('the URL may come from BG_URL', async () => {
    const run = await runBg(['stats', '--json'], { env: { BG_URL: 'memory://x' } });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).queues[0].ready).toBe(0);
  });

  it('dead list/show/replay/purge on an empty store', async () => {
    const list = await runBg(['dead', 'list', 'memory:', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).items).toEqual([]);
    const id = '0190c3e2-7f6a-7cc1-8a31-5b2f1c0e9d11';
    const named = await runBg(['dead', 'list', 'memory:', id]);
    expect(named.code, `dead list ${id} (no such dead letter) must exit 4, as replay and purge do: ${named.stderr}`).toBe(4);
    expect(named.stderr, 'dead list names the id that is not there').toContain(`no dead letter ${id} on default`);
    const namedJson = await runBg(['dead', 'list', 'memory:', id, '--json']);
    expect(namedJson.code, 'dead list --json with a missing id').toBe(4);
    expect(JSON.parse(namedJson.stdout), 'dead list --json names the missing id').toMatchObject({ items: [], notFound: [id] });
    const show = await runBg(['dead', 'show', 'memory:', '0190c3e2-7f6a-7cc1-8a31-5b2f1c0e9d11']);
    expect(show.code).toBe(4);
    expect(show.stderr).toContain('no dead letter');
    expect((await runBg(['dead', 'purge', 'memory:', '--all'])).code).toBe(0);
    expect((await runBg(['dead', 'replay', 'memory:'])).code).toBe(2);
  });

  it('enqueue writes an envelope v1; --module validates the payload', async () => {
    const ok = await runBg(['enqueue', 'memory:', 'email.welcome', '{"userId":"u1"}', '--version', '3', '--key', 'k1', '--json']);
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.envelope).toMatchObject({ bg: 1, type: 'email.welcome', v: 3, payload: { userId: 'u1' }, key: 'k1' });
    const fixture = new URL('./fixtures/jobs-v2.mjs', import.meta.url).pathname;
    const migrated = await runBg([
      'enqueue',
      'memory:',
      'email.welcome',
      '{"userId":"u1"}',
      '--version',
      '1',
      '--module',
      fixture,
    ]);
    expect(migrated.code).toBe(0);
    const bad = await runBg(['enqueue', 'memory:', 'email.welcome', '{"user":"u1"}', '--module', fixture]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_PAYLOAD');
    const unknown = await runBg(['enqueue', 'memory:', 'nope.job', '{}', '--module', fixture]);
    expect(unknown.code).toBe(4);
    expect((await runBg(['enqueue', 'memory:', 'x.y', '{not json'])).code).toBe(2);
    const far = await runBg(['enqueue', 'memory:', 'x.y', '{}', '--delay', '99999999999999d']);
    expect(far.code, `a delay past the year 9999: ${far.stderr}`).not.toBe(0);
    expect(far.stderr, 'a delay past the year 9999 is one typed line, not a stack').toMatch(
      /^[^\n]*INVALID_ARGUMENT[^\n]*year 9999[^\n]*\n?$/,
    );
  });

  it('queue create/list/delete on memory: (each process has its own store)', async () => {
    const create = await runBg(['queue', 'create', 'memory:', 'alpha', '--queue', 'beta,gamma', '--json']);
    expect(create.code, create.stderr).toBe(0);
    expect(JSON.parse(create.stdout)).toEqual({ backend: 'memory:', created: ['alpha', 'beta', 'gamma'] });
    const list = await runBg(['queue', 'list', 'memory:']);
    expect(list.stdout).toBe('no queues on memory:\n');
    expect((await runBg(['queue', 'delete', 'memory:', 'alpha'])).code, 'delete asks; no terminal').toBe(5);
    const missing = await runBg(['queue', 'delete', 'memory:', 'alpha', '--yes', '--json']);
    expect(missing.code, 'deleting a queue that does not exist').toBe(4);
    expect(JSON.parse(missing.stdout)).toMatchObject({ deleted: [], missing: ['alpha'] });
    expect((await runBg(['queue', 'explode', 'memory:'])).code).toBe(2);
    expect((await runBg(['queue', 'create', 'memory:'])).code).toBe(2);
    expect((await runBg(['queue', 'create', 'memory:', 'Bad_Name'])).code).toBe(2);
  });

  it('usage errors exit 2; unknown schemes and missing adapters exit with a clear message', async () => {
    expect((await runBg(['stats', 'memory:', '--bogus'])).code).toBe(2);
    expect((await runBg(['dead', 'explode', 'memory:'])).code).toBe(2);
    expect((await runBg(['move', '--from', 'memory:'])).code).toBe(2);
    expect((await runBg(['stats', 'memory:', '--queue', 'Bad_Name'])).code).toBe(2);
    const scheme = await runBg(['stats', 'ftp://x']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('unknown backend scheme');
  });

  it('never prints credentials', async () => {
    const url = 'azure-queue://acct?accountKey=s3cr3tvalue&endpoint=http%3A%2F%2F127.0.0.1%3A1%2Facct';
    const run = await runBg(['stats', url, '--json']);
    expect(run.code, `stats of an Azure endpoint nothing listens on (UNREACHABLE): ${run.stderr}`).toBe(6);
    expect(run.stdout + run.stderr).not.toContain('s3cr3tvalue');
    const redis = await runBg(['move', '--from', 'redis://:hunter2pass@127.0.0.1:1', '--to', 'memory:', '--json']);
    expect(redis.stdout + redis.stderr).not.toContain('hunter2pass');
  });
});
