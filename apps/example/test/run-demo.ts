import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoSummary } from '../src/demo-report.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));

/** What one demo run printed. */
export interface DemoRun {
  readonly code: number | null;
  readonly output: string;
  /** The parsed last line, if it was JSON. */
  readonly summary: (DemoSummary & { error?: string }) | undefined;
}

/** Runs `pnpm demo` (the same entry point: node --import tsx src/demo.ts) as a subprocess. */
export async function runDemo(env: Readonly<Record<string, string>>, timeoutMs: number): Promise<DemoRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-example-demo-'));
  try {
    return await new Promise<DemoRun>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo.ts'], {
        cwd: appDir,
        env: { ...process.env, NO_COLOR: '1', BG_DEMO_DIR: dir, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const timer = setTimeout(() => {
        // SIGINT: the demo stops the processes and the backend it started.
        child.kill('SIGINT');
      }, timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        const last = output.trimEnd().split('\n').at(-1) ?? '';
        let summary: DemoRun['summary'];
        try {
          summary = JSON.parse(last) as DemoRun['summary'];
        } catch {
          summary = undefined;
        }
        resolve({ code, output, summary });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
