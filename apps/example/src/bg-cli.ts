import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Path of the `bg` command's entry script (`@bg/cli` dist/bin.js), if it is built. */
export function bgBin(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@bg/cli/package.json');
    const bin = join(dirname(pkg), 'dist', 'bin.js');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Output of one `bg` run. */
export interface BgRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bg <args>` as an operator would, and collects its output. */
export function runBg(bin: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<BgRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
