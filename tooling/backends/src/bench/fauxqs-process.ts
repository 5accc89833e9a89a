import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { FauxqsServer } from '../sqs.js';

/** A fauxqs emulator running in its own Node process (its CPU is then not the client's). */
export interface FauxqsProcess extends FauxqsServer {
  /** PID of the emulator's process. */
  readonly pid: number;
}

/**
 * Starts fauxqs in a child Node process on 127.0.0.1 with a free port, so that a bench can
 * tell the client's CPU (`process.cpuUsage`) from the server's (`/proc/<pid>`). Tests keep
 * the in-process `startFauxqs`; this one is for benches.
 */
export async function startFauxqsProcess(): Promise<FauxqsProcess> {
  const fauxqs = import.meta.resolve('fauxqs');
  const script = [
    `const { buildApp } = await import(${JSON.stringify(fauxqs)});`,
    'const app = buildApp({ logger: false });',
    "await app.listen({ port: 0, host: '127.0.0.1' });",
    'console.log(app.server.address().port);',
    "process.on('SIGTERM', () => app.close().then(() => process.exit(0)));",
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`fauxqs exited before listening (code ${code})`)));
  });
  if (!Number.isInteger(port) || port <= 0 || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new Error('fauxqs did not report a listening port');
  }
  const pid = child.pid;
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
