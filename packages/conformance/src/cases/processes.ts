import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CaseContext, ConformanceCase } from '../case.js';
import { message, say, show } from '../helpers.js';
import { longLease } from '../timing.js';

interface ChildReport {
  readonly bg: string;
  readonly ids?: string[];
  readonly message?: string;
  /** On `stopped`: the active resources (timers, sockets …) left after `close()` that were not there before the adapter was built. */
  readonly leaked?: string[];
  readonly closeError?: string;
}

/** A competing consumer process; `stopped` resolves with its last report, after it closed its adapter. */
interface Consumer {
  readonly child: ChildProcess;
  readonly stopped: Promise<ChildReport>;
}

/** Forks one competing consumer and resolves once it is ready; `onIds` gets every delivery it reports. */
async function startConsumer(ctx: CaseContext, lease: number, onIds: (ids: string[]) => void): Promise<Consumer> {
  const hook = ctx.options.workerProcess;
  if (!hook) throw new Error('no workerProcess hook');
  const script = fileURLToPath(new URL('../competing-consumer.js', import.meta.url));
  const child = fork(script, [], {
    env: {
      ...process.env,
      ...hook.env,
      BG_CONF_ADAPTER_MODULE: hook.adapterModule,
      BG_CONF_QUEUE: ctx.queue,
      BG_CONF_LEASE_MS: String(lease),
      BG_CONF_POLL_MS: String(ctx.timing.pollMs),
      BG_CONF_SETTLE_MS: String(ctx.timing.deadlineMs),
    },
    execArgv: hook.adapterModule.endsWith('.ts') ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const unserve = hook.serve?.(child, ctx.adapter);
  ctx.defer(() => {
    unserve?.();
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let onStopped: (report: ChildReport) => void = () => {};
  const stopped = new Promise<ChildReport>((resolve) => {
    onStopped = resolve;
  });
  await new Promise<void>((resolve, reject) => {
    // Starting a process (and tsx) is slow on a loaded machine: allow up to the case timeout.
    const startMs = Math.max(ctx.timing.deadlineMs * 3, ctx.timing.caseTimeoutMs);
    const timer = setTimeout(
      () => reject(new Error(`a competing consumer process did not start within ${startMs} ms: ${stderr}`)),
      startMs,
    );
    child.on('message', (m: ChildReport) => {
      if (m?.bg === 'ready') {
        clearTimeout(timer);
        resolve();
      } else if (m?.bg === 'got' && m.ids) onIds(m.ids);
      else if (m?.bg === 'stopped') onStopped(m);
      else if (m?.bg === 'error') reject(new Error(`a competing consumer process failed: ${m.message}`));
    });
    child.once('exit', (code) => {
      const gone = `a competing consumer process exited (${code}): ${stderr}`;
      reject(new Error(gone));
      onStopped({ bg: 'exited', message: gone });
    });
  });
  return { child, stopped };
}

/**
 * Waits for a consumer told to stop to report that it closed its adapter (its last poll ends
 * first), for at most `ms`.
 */
function whenStopped(consumer: Consumer, ms: number): Promise<ChildReport> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<ChildReport>((resolve) => {
    timer = setTimeout(() => resolve({ bg: 'late' }), ms);
  });
  return Promise.race([consumer.stopped, late]).finally(() => clearTimeout(timer));
}

/** Competing consumers in separate processes. */
export const processCases: readonly ConformanceCase[] = [
  {
    id: 'delivery.competing-processes',
    group: 'Delivery',
    title:
      'consumers in separate processes (and this one) never lease the same job at once (a non-atomic lease is caught); close() leaves no timer or socket behind in their process',
    slow: 2,
    skip: (o) => (o.workerProcess ? undefined : 'no workerProcess hook given (it also builds the competing consumer processes)'),
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const owners = new Map<string, string[]>();
      const note = (who: string) => (ids: string[]) => {
        for (const id of ids) owners.set(id, [...(owners.get(id) ?? []), who]);
      };
      const children = await Promise.all([0, 1].map((i) => startConsumer(ctx, lease, note(`process #${i + 1}`))));
      const n = 40;
      const sent = Array.from({ length: n }, (_, i) => message(`contended-${i}`));
      const size = adapter.capabilities.maxBatchSize;
      for (let i = 0; i < sent.length; i += size) await adapter.send(queue, sent.slice(i, i + size));
      const end = Date.now() + timing.deadlineMs * 2;
      const mine = note('this process');
      while (owners.size < n && Date.now() < end) {
        const got = await adapter.receive(queue, { max: Math.min(3, size), leaseMs: lease, waitMs: timing.pollMs });
        mine(got.map((m) => m.id));
      }
      for (const { child } of children) child.send({ bg: 'stop' });
      // Each child reports its last poll, closes its adapter, then waits up to deadlineMs for
      // what the adapter opened to go (a socket takes a turn or two of its event loop to close).
      const stopMs = timing.pollMs + timing.deadlineMs * 3;
      const reports = await Promise.all(children.map((c) => whenStopped(c, stopMs)));
      const twice = [...owners.entries()].filter(([, who]) => who.length > 1);
      expect(
        twice.length,
        say(
          `receive(leaseMs ${lease}) by 3 consumers in 3 processes on queue ${queue}`,
          'no job is leased twice while its lease runs',
          `${twice.length} jobs leased twice, e.g. ${show(twice.slice(0, 3))}`,
        ),
      ).toBe(0);
      expect(owners.size, say(`receive by 3 processes on queue ${queue}`, `all ${n} jobs delivered`, `${owners.size}`)).toBe(n);
      for (const [i, report] of reports.entries()) {
        const who = `consumer process #${i + 1} (receive, then adapter.close())`;
        expect(
          report.bg,
          say(who, `closes its adapter and reports within ${stopMs} ms of being told to stop`, report.message ?? report.bg),
        ).toBe('stopped');
        expect(report.closeError, say(`${who}: close()`, 'resolves', report.closeError)).toBeUndefined();
        expect(
          report.leaked,
          say(
            `${who}: process.getActiveResourcesInfo() after close(), compared with before the adapter was built`,
            `close() releases every timer, socket and handle the adapter opened (waited ${timing.deadlineMs} ms for them to go): whatever is left keeps the process from exiting`,
            show(report.leaked),
          ),
        ).toEqual([]);
      }
    },
  },
];
