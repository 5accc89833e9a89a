/** Sum of vitest reports: see suite.mjs. */
export interface Sums {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}
export declare function exitedOk(child: import('node:child_process').ChildProcess): Promise<boolean>;
export declare function failedTestLines(report: unknown, limit?: number): string[];
export declare function sumReports(reports: string, names: readonly string[], label?: string): Sums;
export declare function packagesWithTests(root: string, exclude?: readonly string[]): string[];
export declare function run(
  title: string,
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): boolean;
export declare function runSuite(options: {
  root: string;
  env: NodeJS.ProcessEnv;
  label?: string;
  lint?: boolean;
  typecheck?: boolean;
  exclude?: readonly string[];
  lane?: readonly string[];
}): Promise<Sums>;
