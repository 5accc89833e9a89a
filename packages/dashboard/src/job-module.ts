import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BgError, isJobDefinition, type JobDefinition } from '@bg/core';

function collect(value: unknown, into: Set<JobDefinition>, depth: number): void {
  if (isJobDefinition(value)) {
    into.add(value);
    return;
  }
  if (depth > 0 && typeof value === 'object' && value !== null)
    for (const item of Array.isArray(value) ? value : Object.values(value)) collect(item, into, depth - 1);
}

/**
 * The job definitions exported by an ES module (named exports, and arrays or objects of
 * definitions), as `bgctl schema` reads them, merged with `extra`, sorted by type.
 * Two different definitions of one type are a configuration error.
 */
export async function loadJobDefinitions(
  modulePath: string | undefined,
  extra: readonly JobDefinition[] = [],
  attempt = 0,
): Promise<Map<string, JobDefinition>> {
  const found = new Set<JobDefinition>(extra);
  if (modulePath !== undefined) {
    const path = resolve(modulePath);
    let mod: Record<string, unknown>;
    // A later attempt imports the module under a URL of its own: a module whose evaluation threw
    // stays failed under its URL for the life of the process.
    const url = pathToFileURL(path).href + (attempt > 0 ? `?bg-dashboard-attempt=${attempt}` : '');
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (cause) {
      throw new BgError('INVALID_ARGUMENT', `cannot load the job module ${path}: ${(cause as Error).message}`, {
        cause,
        retryable: false,
      });
    }
    const before = found.size;
    for (const value of Object.values(mod)) collect(value, found, 2);
    if (found.size === before)
      throw new BgError('INVALID_ARGUMENT', `${path} exports no job definitions (made with defineJob)`, { retryable: false });
  }
  const jobs = new Map<string, JobDefinition>();
  for (const job of found) {
    const other = jobs.get(job.type);
    if (other && other !== job)
      throw new BgError('INVALID_ARGUMENT', `two different definitions of job type "${job.type}"`, { retryable: false });
    jobs.set(job.type, job);
  }
  return new Map([...jobs].sort(([a], [b]) => a.localeCompare(b)));
}
