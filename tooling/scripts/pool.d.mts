/** A job of the pool: see pool.mjs. */
export interface PoolJob {
  title: string;
  weight: number;
  slots?: number;
  run: () => Promise<boolean>;
}
export declare function createPool(concurrency: number): {
  add(job: PoolJob): void;
  close(): void;
  done: Promise<string[]>;
};
export declare function runPrefixed(
  prefix: string,
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<boolean>;
