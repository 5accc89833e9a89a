import { createServer } from 'node:http';
import { freePort } from '@bg/backends';
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
    /** Restarts the durable server with kill -9 (GET). */
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
  const control = createServer((req, res) => {
    if (req.url === '/restart' && durable) {
      durable.restart().then(
        () => res.end('ok'),
        (error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        },
      );
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const address = control.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  project.provide('pgUrl', server?.url);
  project.provide('pgPasswordUrl', server?.passwordUrl);
  project.provide('pgDurableUrl', durable?.url);
  project.provide('pgRestartUrl', `http://127.0.0.1:${port}/restart`);
  project.provide('pgUnreachableUrl', `postgres://bg@127.0.0.1:${await freePort()}/bg`);
  return async () => {
    control.close();
    await Promise.all([server?.stop(), durable?.stop()]);
  };
}
