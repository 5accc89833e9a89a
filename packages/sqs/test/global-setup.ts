import { missingBackend } from '@bg/backends';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The private fauxqs emulator's endpoint, or why the tests skip. */
    fauxqs: { endpoint: string; region: string } | { skip: string };
  }
}

let stop: (() => Promise<void>) | undefined;

/** Starts a private in-process fauxqs (SQS emulator) on 127.0.0.1 for the test run. */
export async function setup(project: TestProject): Promise<void> {
  let start: typeof import('@bg/backends/sqs').startFauxqs;
  try {
    ({ startFauxqs: start } = await import('@bg/backends/sqs'));
  } catch (error) {
    const missing = missingBackend('fauxqs', `pnpm install (${String(error)})`);
    if (missing.fail) throw new Error(missing.message);
    project.provide('fauxqs', { skip: missing.message });
    return;
  }
  const server = await start();
  stop = () => server.stop();
  project.provide('fauxqs', { endpoint: server.endpoint, region: server.region });
}

/** Stops the emulator. */
export async function teardown(): Promise<void> {
  await stop?.();
}
