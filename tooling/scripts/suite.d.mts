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
export declare function packagesWithTests(root: string, exclude?: readonly string[]): { dir: string; name: string }[];
export declare function run(
  title: string,
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): boolean;
