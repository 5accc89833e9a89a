// The pieces of a run of the suite in one workspace folder (tooling/scripts/test.mjs runs
// them): commands, the packages with tests, and the sum of the per-package vitest JSON reports.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command to the end with inherited output; true when it exited 0. */
export function run(title, cmd, args, { cwd, env }) {
  console.log(`\n=== ${title}: ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { cwd, stdio: 'inherit', env });
  return result.status === 0;
}

/** Resolves true when `child` (a spawned process) exits 0, false when it fails or cannot start. */
export function exitedOk(child) {
  return new Promise((resolve) => {
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/**
 * The workspace packages with a `test` script, minus `exclude` (package names): `{ dir, name }`
 * each, `dir` the folder name (the name of its report under `.reports/`), `name` the package name.
 */
export function packagesWithTests(root, exclude = []) {
  const found = [];
  for (const dir of ['packages', 'apps', 'tooling']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const pkgFile = join(base, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      if (pkg.scripts?.test && !exclude.includes(pkg.name)) found.push({ dir: name, name: pkg.name });
    }
  }
  return found;
}

/** Terminal colour codes (vitest colours its messages). */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Credentials in URLs (`scheme://user:secret@host`) and long tokens are cut from a failure line. */
function redact(text) {
  return text.replace(/(\w+:\/\/[^/\s:@]*):[^@\s/]*@/g, '$1:***@').replace(/[A-Za-z0-9+/=_-]{40,}/g, '***');
}

/**
 * One line per failed test of a vitest JSON report (at most 10): its file, its full name and the
 * first line of its first failure message (and the line saying what was expected, when a
 * message given to `expect` came first), redacted and cut to 400 characters.
 */
export function failedTestLines(report, limit = 10) {
  const lines = [];
  for (const file of report.testResults ?? []) {
    for (const a of file.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      const text = String(a.failureMessages?.[0] ?? '')
        .replace(ANSI_COLOUR, '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('at '));
      // A message given to expect() may run over many lines before vitest's "expected … to …".
      const first = text[0] ?? '(no message)';
      const verdict = /expected .+ to /.test(first) ? undefined : text.find((l) => /expected .+ to /.test(l));
      const message = verdict ? `${first.slice(0, 150)} … ${verdict}` : first;
      const where = String(file.name ?? '')
        .split('/')
        .slice(-2)
        .join('/');
      lines.push(redact(`${where} > ${a.fullName ?? a.title}: ${message}`).slice(0, 400));
    }
  }
  if (lines.length > limit) return [...lines.slice(0, limit), `… and ${lines.length - limit} more`];
  return lines;
}

/**
 * Sums the vitest JSON reports of `names` under `reports`: `{ passed, failed, skipped,
 * failures }`. Every vitest run that did not succeed counts, even when no test failed: a
 * package without a report (it crashed before reporting); a test file that failed to load or
 * whose suite failed (a `beforeAll` hook) without a failing test; a report with
 * `success: false` (a global setup that threw: no test ran at all); unhandled errors or an
 * interrupted run, from the `<name>.run.json` that `tooling/vitest-reporters.js` writes next
 * to the report.
 */
export function sumReports(reports, names, label = '') {
  const total = { passed: 0, failed: 0, skipped: 0, failures: [] };
  for (const name of names) {
    const file = join(reports, `${name}.json`);
    if (!existsSync(file)) {
      total.failed++;
      total.failures.push(`${label}${name} (no test report: the run crashed before reporting)`);
      continue;
    }
    const r = JSON.parse(readFileSync(file, 'utf8'));
    const failedTests = r.numFailedTests ?? 0;
    total.passed += r.numPassedTests ?? 0;
    total.failed += failedTests;
    total.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    // CI keeps only the tail of the output: the line names each failed test and what broke.
    if (failedTests > 0)
      total.failures.push(
        `${label}${name}: ${failedTests} failed${failedTestLines(r)
          .map((l) => `\n    ${l}`)
          .join('')}`,
      );
    // A file whose suite failed (syntax error, a throwing hook) has failed but may count no failed test.
    const brokenFiles = (r.testResults ?? []).filter(
      (t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed'),
    );
    if (brokenFiles.length > 0) {
      total.failed += brokenFiles.length;
      total.failures.push(`${label}${name}: ${brokenFiles.length} test file(s) failed to run`);
    }
    // Whatever else says the run failed counts once per package.
    const problems = [];
    if (failedTests === 0 && brokenFiles.length === 0 && (r.success === false || (r.numFailedTestSuites ?? 0) > 0))
      problems.push('the vitest run did not succeed although no test failed (a global setup, or the run itself)');
    const outcomeFile = join(reports, `${name}.run.json`);
    if (existsSync(outcomeFile)) {
      const outcome = JSON.parse(readFileSync(outcomeFile, 'utf8'));
      const errors = outcome.unhandledErrors ?? [];
      if (errors.length > 0) problems.push(`${errors.length} unhandled error(s): ${errors.join(' | ').slice(0, 300)}`);
      if (outcome.reason === 'interrupted') problems.push('the vitest run was interrupted');
    }
    if (problems.length > 0) {
      total.failed++;
      total.failures.push(`${label}${name}: ${problems.join('; ')}`);
    }
  }
  return total;
}
