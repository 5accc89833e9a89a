import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's own command folder, where the package manager links `bgctl` (from `@bg/cli`). */
export const APP_BIN_DIR = fileURLToPath(new URL('../node_modules/.bin', import.meta.url));

/**
 * Whether `bgctl` can run: linked in {@link APP_BIN_DIR} and `@bg/cli` built. Otherwise the
 * demo falls back to the core API and says so.
 */
export function bgctlAvailable(binDir: string = APP_BIN_DIR): boolean {
  try {
    const pkg = createRequire(import.meta.url).resolve('@bg/cli/package.json');
    return existsSync(join(binDir, 'bgctl')) && existsSync(join(dirname(pkg), 'dist', 'bin.js'));
  } catch {
    return false;
  }
}

/** Output of one `bgctl` run. */
export interface BgRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `bgctl <args>` as an operator would: by name, through `sh -c`, with the app's
 * `node_modules/.bin` on PATH (what `npx`/`pnpm exec` do). Arguments go in as "$@".
 */
export function runBgctl(args: readonly string[], env: NodeJS.ProcessEnv, binDir: string = APP_BIN_DIR): Promise<BgRun> {
  return new Promise((resolve, reject) => {
    const PATH = [binDir, dirname(process.execPath), env.PATH ?? ''].join(delimiter);
    const child = spawn('sh', ['-c', 'bgctl "$@"', 'sh', ...args], { env: { ...env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
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
