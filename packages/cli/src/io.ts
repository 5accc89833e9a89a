import { createInterface } from 'node:readline/promises';

/** Where a command reads and writes: the real process, or a test double in-process. */
export interface CliIo {
  /** Writes to standard output. */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** True when stdout is a terminal: human tables, colours off by default for pipes. */
  readonly stdoutIsTty: boolean;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  readonly stderrIsTty: boolean;
  /** True when stdin is a terminal: confirmations can be asked only then. */
  readonly stdinIsTty: boolean;
  /** Asks a yes/no question on the terminal; resolves true for "y"/"yes". */
  confirm(question: string): Promise<boolean>;
  /** Working directory for relative paths. */
  readonly cwd: string;
  /** Environment variables (e.g. `BG_URL`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The {@link CliIo} of the running process. */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdoutIsTty: Boolean(process.stdout.isTTY),
    stderrIsTty: Boolean(process.stderr.isTTY),
    stdinIsTty: Boolean(process.stdin.isTTY),
    async confirm(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } catch {
        // Ctrl-C or Ctrl-D at the prompt: not a yes.
        return false;
      } finally {
        rl.close();
      }
    },
    cwd: process.cwd(),
    env: process.env,
  };
}
