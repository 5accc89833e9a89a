// The CI summary counts every vitest run that did not succeed (tooling/scripts/suite.mjs),
// on sample reports shaped as vitest 5's JSON reporter and tooling/vitest-reporters.js write them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sumReports } from '../../scripts/suite.mjs';

const dir = mkdtempSync(join(tmpdir(), 'bg-sum-reports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const test = (status: 'passed' | 'failed' | 'skipped') => ({ status, title: status, failureMessages: [] });
const file = (status: 'passed' | 'failed', tests: ReturnType<typeof test>[]) => ({
  status,
  name: '/x.test.ts',
  message: '',
  assertionResults: tests,
});
function report(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    numTotalTestSuites: 1,
    numFailedTestSuites: 0,
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    success: true,
    testResults: [],
    ...fields,
  };
}

/** Writes `<name>.json` (and `<name>.run.json` when given) and sums that one package. */
function sum(name: string, json: Record<string, unknown> | undefined, run?: Record<string, unknown>) {
  if (json) writeFileSync(join(dir, `${name}.json`), JSON.stringify(json));
  if (run) writeFileSync(join(dir, `${name}.run.json`), JSON.stringify(run));
  return sumReports(dir, [name], 'floor: ');
}

describe('sumReports', () => {
  const cases: { name: string; json?: Record<string, unknown>; run?: Record<string, unknown>; failed: number; says?: string }[] =
    [
      {
        name: 'green',
        json: report({ numPassedTests: 2, testResults: [file('passed', [test('passed'), test('passed')])] }),
        run: { reason: 'passed', unhandledErrors: [] },
        failed: 0,
      },
      {
        name: 'failing-test',
        json: report({
          numPassedTests: 1,
          numFailedTests: 1,
          success: false,
          testResults: [file('failed', [test('passed'), test('failed')])],
        }),
        run: { reason: 'failed', unhandledErrors: [] },
        failed: 1,
        says: 'failing-test: 1 failed',
      },
      {
        // vitest 5 with a global setup that throws: no file ran, success false, nothing else says so.
        name: 'global-setup',
        json: report({ numTotalTestSuites: 0, success: false }),
        run: { reason: 'failed', unhandledErrors: ['Error: redis-server not found'] },
        failed: 1,
        says: 'redis-server not found',
      },
      {
        name: 'global-setup-without-outcome-file',
        json: report({ numTotalTestSuites: 0, success: false }),
        failed: 1,
        says: 'did not succeed',
      },
      {
        // An error thrown outside any test after they passed: the JSON report says success.
        name: 'unhandled',
        json: report({ numPassedTests: 1, testResults: [file('passed', [test('passed')])] }),
        run: { reason: 'passed', unhandledErrors: ['Error: late boom'] },
        failed: 1,
        says: '1 unhandled error(s): Error: late boom',
      },
      {
        // A beforeAll hook that throws: its tests are skipped, the suite and the file failed.
        name: 'hook',
        json: report({
          numFailedTestSuites: 2,
          numPendingTests: 1,
          success: false,
          testResults: [file('failed', [test('skipped')])],
        }),
        run: { reason: 'failed', unhandledErrors: [] },
        failed: 1,
        says: '1 test file(s) failed to run',
      },
      {
        name: 'load-error',
        json: report({ numFailedTestSuites: 1, success: false, testResults: [file('failed', [])] }),
        failed: 1,
        says: 'failed to run',
      },
      {
        name: 'interrupted',
        json: report({ numPassedTests: 1 }),
        run: { reason: 'interrupted', unhandledErrors: [] },
        failed: 1,
        says: 'interrupted',
      },
      { name: 'no-report', failed: 1, says: 'no test report' },
    ];
  for (const c of cases) {
    it(`${c.name}: ${c.failed} failure(s)`, () => {
      const total = sum(c.name, c.json, c.run);
      expect(total.failed, `sumReports(${c.name}): failed count, failures ${JSON.stringify(total.failures)}`).toBe(c.failed);
      expect(total.failures.length, `sumReports(${c.name}): one line per failing package`).toBe(c.failed === 0 ? 0 : 1);
      if (c.says) expect(total.failures[0], `sumReports(${c.name}): the line says why, with the label`).toContain(c.says);
      if (c.failed > 0) expect(total.failures[0], `sumReports(${c.name}): labelled`).toMatch(/^floor: /);
    });
  }

  it('sums several packages', () => {
    const total = sumReports(dir, ['green', 'failing-test', 'unhandled'], '');
    expect(total, 'sumReports(green, failing-test, unhandled)').toMatchObject({ passed: 4, failed: 2, skipped: 0 });
  });

  it('names each failed test with the first line of what broke, credentials and tokens cut', () => {
    const failed = (fullName: string, message: string) => ({
      status: 'failed',
      title: fullName,
      fullName,
      failureMessages: [message],
    });
    const total = sum(
      'named-failures',
      report({
        numFailedTests: 3,
        success: false,
        testResults: [
          {
            status: 'failed',
            name: '/repo/apps/example/test/demo.test.ts',
            message: '',
            assertionResults: [
              failed('demo > BG_URL=redis', '\u001b[31mAssertionError: expected 1 to be 0\u001b[39m\n    at stack (x.ts:1:1)'),
              failed(
                'demo > BG_URL=sqs',
                "AssertionError: [1] demo output\nline two\n: expected [ 'sigterm' ] to deeply equal []\n    at x",
              ),
              failed(
                'demo > BG_URL=postgres',
                `Error: connect postgres://bg_secret:hunter2@127.0.0.1:5432/bg refused with ${'k'.repeat(48)}`,
              ),
            ],
          },
        ],
      }),
    );
    expect(total.failures, 'sumReports(named-failures): still one entry per package').toHaveLength(1);
    const [line] = total.failures;
    expect(line, 'the count comes first').toMatch(/^floor: named-failures: 3 failed\n/);
    expect(line, 'the first failed test, its file and the first line of its message (no colour codes)').toContain(
      'test/demo.test.ts > demo > BG_URL=redis: AssertionError: expected 1 to be 0',
    );
    expect(line, 'only the first line of the message').not.toContain('at stack');
    expect(line, 'a multi-line message: its first line and the expectation').toContain(
      "BG_URL=sqs: AssertionError: [1] demo output … : expected [ 'sigterm' ] to deeply equal []",
    );
    expect(line, 'the third failed test').toContain('demo > BG_URL=postgres: Error: connect postgres://bg_secret:***@127.0.0.1');
    expect(line, 'no password').not.toContain('hunter2');
    expect(line, 'no long token').not.toContain('k'.repeat(40));
  });
});
