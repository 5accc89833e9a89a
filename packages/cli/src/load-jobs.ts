import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isBgError, isJobDefinition, type JobDefinition } from '@bg/core';
import { CliFailure, EXIT } from './exit-codes.js';

/** Job definitions found in a module, by type. */
export interface LoadedJobs {
  /** Absolute path of the module. */
  readonly path: string;
  readonly jobs: ReadonlyMap<string, JobDefinition>;
}

function collect(value: unknown, into: Set<JobDefinition>, depth: number): void {
  if (isJobDefinition(value)) {
    into.add(value);
    return;
  }
  if (depth > 0 && typeof value === 'object' && value !== null) {
    for (const item of Array.isArray(value) ? value : Object.values(value)) collect(item, into, depth - 1);
  }
}

/**
 * Imports an ES module and collects its exported job definitions (made by `defineJob`):
 * named exports, and arrays or plain objects of definitions (e.g. `export default [a, b]`).
 * Two different definitions with the same type are an error.
 */
export async function loadJobs(modulePath: string, cwd: string): Promise<LoadedJobs> {
  const path = resolve(cwd, modulePath);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const code = isBgError(error) ? `${error.code}: ` : '';
    throw new CliFailure(
      EXIT.FAILURE,
      `cannot load module ${path}: ${code}${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const found = new Set<JobDefinition>();
  for (const value of Object.values(mod)) collect(value, found, 2);
  const jobs = new Map<string, JobDefinition>();
  for (const job of found) {
    const other = jobs.get(job.type);
    if (other && other !== job) {
      throw new CliFailure(EXIT.FAILURE, `${path} exports two different definitions of job type "${job.type}"`);
    }
    jobs.set(job.type, job);
  }
  if (jobs.size === 0) {
    throw new CliFailure(EXIT.FAILURE, `${path} exports no job definitions (made with defineJob from @bg/core)`);
  }
  return { path, jobs: new Map([...jobs].sort(([a], [b]) => a.localeCompare(b))) };
}
