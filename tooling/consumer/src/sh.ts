import { type ChildProcess, spawn } from 'node:child_process';

/** What a finished command printed and how it ended. */
export interface ShResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link sh} and {@link shStart}. */
export interface ShOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The environment of a stranger's shell: this process's, minus what pnpm, npm and vitest
 * put there for their own children (npm_config_*, NODE_OPTIONS, …), with `prependPath`
 * first on PATH.
 */
export function cleanEnv(
  base: NodeJS.ProcessEnv,
  prependPath: readonly string[],
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (/^(npm_|pnpm_|PNPM_|VITEST|TURBO_)/i.test(key) || key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = [...prependPath, base.PATH ?? ''].join(':');
  return { ...env, ...extra };
}

/** A command running through `sh -c`, as a user types it. */
export interface ShProcess {
  readonly child: ChildProcess;
  /** Resolves when it exits. */
  readonly done: Promise<ShResult>;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
}

/** Starts `command` through `sh -c` (not awaited). */
export function shStart(command: string, options: ShOptions): ShProcess {
  const child = spawn('sh', ['-c', command], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<ShResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Runs `command` through `sh -c` to the end. */
export function sh(command: string, options: ShOptions): Promise<ShResult> {
  return shStart(command, options).done;
}

/** One line for an assertion message: the command, how it ended and the tail of its output. */
export function describeRun(command: string, r: ShResult): string {
  const tail = (s: string): string => s.trim().split('\n').slice(-15).join('\n');
  return `\`${command}\` exited ${r.code ?? r.signal}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}
