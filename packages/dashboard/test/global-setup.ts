import { existsSync } from 'node:fs';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import type { TestProject } from 'vitest/node';

/** Where the browser tests find their backend and browser, or why they cannot run. */
export type E2eInfo = { redisUrl: string; chromium: string } | { skip: string };

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eInfo;
  }
}

/** Debian's Chromium (installed by tooling/scripts/setup.sh); playwright's own downloads are not used. */
export const CHROMIUM = process.env.BG_CHROMIUM ?? '/usr/bin/chromium';

/** Starts a private redis-server for the browser tests; in CI a missing server or browser fails the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: RedisServer | undefined;
  let info: E2eInfo;
  if (!existsSync(CHROMIUM))
    info = { skip: `Chromium is not installed at ${CHROMIUM} (bash tooling/scripts/setup.sh installs it)` };
  else {
    server = await startRedis();
    info = server ? { redisUrl: server.url, chromium: CHROMIUM } : { skip: 'redis-server is not installed' };
  }
  if ('skip' in info && process.env.CI) throw new Error(`dashboard browser tests cannot run: ${info.skip}`);
  project.provide('e2e', info);
  return async () => {
    await server?.stop();
  };
}
