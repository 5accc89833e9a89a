import { type CliIo, runCli } from '../src/index.js';

/** A {@link CliIo} for in-process tests: no terminal, never confirms, keeps what is written. */
export interface CapturedIo extends CliIo {
  /** What was written to stdout so far. */
  stdout(): string;
  /** What was written to stderr so far. */
  stderr(): string;
  /** Both streams, interleaved in the order written. */
  text(): string;
}

/** A {@link CapturedIo} with `env` as its environment. */
export function captureIo(env: Record<string, string> = {}): CapturedIo {
  let out = '';
  let err = '';
  let both = '';
  return {
    out: (t) => {
      out += t;
      both += t;
    },
    err: (t) => {
      err += t;
      both += t;
    },
    stdoutIsTty: false,
    stderrIsTty: false,
    stdinIsTty: false,
    confirm: async () => false,
    cwd: process.cwd(),
    env,
    stdout: () => out,
    stderr: () => err,
    text: () => both,
  };
}

/** Runs the CLI in-process with a {@link captureIo}: its exit code and both streams. */
export async function runCaptured(
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(env);
  const code = await runCli(argv, { io });
  return { code, out: io.stdout(), err: io.stderr() };
}
