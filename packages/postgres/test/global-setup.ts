import { freePort, serveRestart } from '@bg/backends';
import { type PostgresServer, startPostgres } from '@bg/backends/postgres';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The trusted test user's URL, or undefined without PostgreSQL. */
    pgUrl: string | undefined;
    /** A user that must give its password (scram). */
    pgPasswordUrl: string | undefined;
    /** A second server for the durability test, which kill -9s it. */
    pgDurableUrl: string | undefined;
    /** Restarts the durable server with kill -9 (`requestRestart`). */
    pgRestartUrl: string;
    /** A loopback port where nothing listens. */
    pgUnreachableUrl: string;
  }
}

let server: PostgresServer | undefined;
let durable: PostgresServer | undefined;

/** Starts one private PostgreSQL for the run; test files restart it (kill -9) through a loopback endpoint. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  [server, durable] = await Promise.all([startPostgres(), startPostgres()]);
  const control = await serveRestart(async () => {
    if (!durable) throw new Error('no durable PostgreSQL to restart');
    await durable.restart();
  });
  project.provide('pgUrl', server?.url);
  project.provide('pgPasswordUrl', server?.passwordUrl);
  project.provide('pgDurableUrl', durable?.url);
  project.provide('pgRestartUrl', control.url);
  project.provide('pgUnreachableUrl', `postgres://bg@127.0.0.1:${await freePort()}/bg`);
  return async () => {
    await Promise.all([control.close(), server?.stop(), durable?.stop()]);
  };
}
