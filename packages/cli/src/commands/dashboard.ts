import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Adapter, type JobDefinition, redactUrl } from '@bg/core';
import { createDashboard } from '@bg/dashboard';
import { intOption, parse, queueNames } from '../args.js';
import { openBackend } from '../backend.js';
import { type CommandContext, printHelp } from '../context.js';
import { CliFailure, EXIT, type ExitCode, UsageError } from '../exit-codes.js';
import { HELP } from '../help.js';
import { loadJobs } from '../load-jobs.js';
import { shownNonUrl } from '../secrets.js';

/** Environment variable holding the dashboard's access token (keeps it out of `ps`). */
export const DASHBOARD_TOKEN_ENV = 'BG_DASHBOARD_TOKEN';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** `bgctl dashboard URL... [--port 7070] [--host 127.0.0.1] [--read-only] [--token t] [--module m] [--queue q]...` */
export async function dashboardCommand(argv: readonly string[], ctx: CommandContext): Promise<ExitCode> {
  const { values, positionals } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'read-only': { type: 'boolean' },
    token: { type: 'string' },
    module: { type: 'string' },
    queue: { type: 'string', multiple: true },
    interval: { type: 'string' },
  });
  if (values.help) {
    printHelp(ctx, HELP.dashboard);
    return EXIT.OK;
  }
  const urls = positionals.length > 0 ? positionals : ctx.io.env.BG_URL ? [ctx.io.env.BG_URL] : [];
  if (urls.length === 0) throw new UsageError('missing backend URL (give one or more, or set BG_URL)');
  for (const url of urls)
    if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) throw new UsageError(`not a backend URL: "${shownNonUrl(redactUrl(url))}"`);
  const port = intOption(values.port, 'port', 0, 65_535) ?? 7070;
  const host = values.host ?? '127.0.0.1';
  const token = values.token ?? ctx.io.env[DASHBOARD_TOKEN_ENV];
  if (!LOOPBACK_HOSTS.has(host) && !token)
    throw new UsageError(
      `--host ${host} is reachable from other machines: give an access token (--token or $${DASHBOARD_TOKEN_ENV})`,
    );
  if (token !== undefined && token.length < 12) throw new UsageError('the access token must be at least 12 characters');
  const intervalSeconds = intOption(values.interval, 'interval', 2, 86_400);
  const queues = values.queue ? queueNames(values.queue) : undefined;
  let jobs: JobDefinition[] = [];
  if (values.module) jobs = [...(await loadJobs(values.module, ctx.io.cwd)).jobs.values()];

  const adapters: Adapter[] = [];
  try {
    for (const url of urls) adapters.push(await openBackend(url));
    const names = urls.map((url, i) => {
      const name = redactUrl(url);
      return urls.slice(0, i).some((other) => redactUrl(other) === name) ? `${name} #${i + 1}` : name;
    });
    const dashboard = createDashboard({
      backends: adapters.map((adapter, i) => ({ name: names[i] ?? adapter.name, adapter, ...(queues ? { queues } : {}) })),
      readOnly: values['read-only'] === true,
      ...(token ? { token } : {}),
      ...(jobs.length > 0 ? { jobs } : {}),
      ...(intervalSeconds !== undefined ? { sampleIntervalMs: intervalSeconds * 1_000 } : {}),
    });
    const server = createServer(dashboard);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (error) {
      await dashboard.close();
      throw new CliFailure(EXIT.FAILURE, `cannot listen on ${host}:${port}: ${(error as Error).message}`);
    }
    const address = server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const at = `http://${shownHost}:${address.port}/`;
    ctx.io.out(
      `bg dashboard on ${at} for ${names.join(', ')}${values['read-only'] ? ' (read-only)' : ''}${jobs.length > 0 ? `; enqueue form: ${jobs.length} job type(s)` : ''}\n`,
    );
    if (token) ctx.io.out(`open ${at}?token=<your token> once; the browser keeps the login 12 hours\n`);
    ctx.io.out('Ctrl-C to stop\n');
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dashboard.close();
    ctx.io.out('dashboard stopped\n');
    return EXIT.OK;
  } finally {
    await Promise.allSettled(adapters.map((adapter) => adapter.close()));
  }
}
