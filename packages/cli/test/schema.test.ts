import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBg } from './helpers.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const dirs: string[] = [];
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bg-cli-schema-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('bgctl schema (subprocess)', () => {
  it('snapshot writes every job; check passes on the same module', async () => {
    const dir = workdir();
    const snap = await runBg(['schema', 'snapshot', fixture('jobs-v1.mjs')], { cwd: dir });
    expect(snap.stderr).toBe('');
    expect(snap.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, 'bg-schema.json'), 'utf8'));
    expect(file.format).toBe(1);
    expect(Object.keys(file.jobs)).toEqual(['email.welcome', 'image.resize']);
    expect(file.jobs['email.welcome'].versions['1']).toMatchObject({ type: 'object', required: ['userId'] });
    const check = await runBg(['schema', 'check', fixture('jobs-v1.mjs')], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('schema check passed');
  });

  it('a new version with a migration: check fails until snapshotted, snapshot appends, history kept', async () => {
    const dir = workdir();
    const file = join(dir, 'schemas', 'history.json');
    expect(
      (await runBg(['schema', 'snapshot', fixture('jobs-v1.mjs'), '--file', 'schemas/history.json'], { cwd: dir })).code,
    ).toBe(0);
    const before = await runBg(['schema', 'check', fixture('jobs-v2.mjs'), '--file', file, '--json'], { cwd: dir });
    expect(before.code).toBe(3);
    const report = JSON.parse(before.stdout);
    expect(report.ok).toBe(false);
    expect(report.findings.map((f: { kind: string }) => f.kind)).toEqual(['not-snapshotted']);
    const snap = await runBg(['schema', 'snapshot', fixture('jobs-v2.mjs'), '--file', file, '--json'], { cwd: dir });
    expect(snap.code).toBe(0);
    expect(JSON.parse(snap.stdout).added).toEqual(['email.welcome@2']);
    const history = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(history.jobs['email.welcome'].versions)).toEqual(['1', '2']);
    expect(history.jobs['email.welcome'].versions['1'].required).toEqual(['userId']);
    expect((await runBg(['schema', 'check', fixture('jobs-v2.mjs'), '--file', file], { cwd: dir })).code).toBe(0);
    // Going back to v1 now means queued v2 jobs would be unknown.
    const back = await runBg(['schema', 'check', fixture('jobs-v1.mjs'), '--file', file, '--json'], { cwd: dir });
    expect(back.code).toBe(3);
    expect(JSON.parse(back.stdout).findings.map((f: { kind: string }) => f.kind)).toContain('version-regressed');
  });

  it('check fails (exit 3) on a released schema changed without a new version, and snapshot refuses it', async () => {
    const dir = workdir();
    expect((await runBg(['schema', 'snapshot', fixture('jobs-v1.mjs')], { cwd: dir })).code).toBe(0);
    const original = readFileSync(join(dir, 'bg-schema.json'), 'utf8');
    const check = await runBg(['schema', 'check', fixture('jobs-broken.mjs')], { cwd: dir });
    expect(check.code).toBe(3);
    expect(check.stderr).toMatch(/"email\.welcome" v1 is released and its schema changed/);
    expect(check.stderr).toContain('schema check failed: 1 problem(s)');
    const snap = await runBg(['schema', 'snapshot', fixture('jobs-broken.mjs')], { cwd: dir });
    expect(snap.code).toBe(3);
    expect(readFileSync(join(dir, 'bg-schema.json'), 'utf8')).toBe(original);
    const forced = await runBg(['schema', 'snapshot', fixture('jobs-broken.mjs'), '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('email.welcome@1 rewritten');
  });

  it('check fails (exit 3) on a new version without a migration', async () => {
    const dir = workdir();
    expect((await runBg(['schema', 'snapshot', fixture('jobs-v1.mjs')], { cwd: dir })).code).toBe(0);
    const check = await runBg(['schema', 'check', fixture('jobs-no-migration.mjs')], { cwd: dir });
    expect(check.code).toBe(3);
    expect(check.stderr).toMatch(/missing migrate\[1\]/);
  });

  it('check without a snapshot file fails with a hint', async () => {
    const dir = workdir();
    const check = await runBg(['schema', 'check', fixture('jobs-v1.mjs')], { cwd: dir });
    expect(check.code).toBe(3);
    expect(check.stderr).toContain('bgctl schema snapshot');
  });

  it('a schema library without JSON Schema fails clearly (exit 1)', async () => {
    const dir = workdir();
    const snap = await runBg(['schema', 'snapshot', fixture('jobs-valibot.mjs')], { cwd: dir });
    expect(snap.code).toBe(1);
    expect(snap.stderr).toMatch(/schema \(valibot\) offers no JSON Schema/);
  });

  it('a module without job definitions, or missing, fails (exit 1); no module is a usage error', async () => {
    const dir = workdir();
    copyFileSync(fixture('no-jobs.mjs'), join(dir, 'no-jobs.mjs'));
    const none = await runBg(['schema', 'snapshot', 'no-jobs.mjs'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('exports no job definitions');
    const missing = await runBg(['schema', 'snapshot', 'nope.mjs'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot load module');
    expect((await runBg(['schema', 'snapshot'], { cwd: dir })).code).toBe(2);
  });
});
