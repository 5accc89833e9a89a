/**
 * Exit codes of the `bgctl` command. Scripts can rely on them; new codes may be added,
 * none is ever renumbered.
 */
export const EXIT = Object.freeze({
  /** Success. */
  OK: 0,
  /** The command failed (backend error, unreachable backend, bad module …). */
  FAILURE: 1,
  /** Bad command line: unknown command or option, missing argument, bad value. */
  USAGE: 2,
  /** A check failed: `bgctl schema check` found a breaking change. */
  CHECK_FAILED: 3,
  /** What was asked for does not exist (e.g. `bgctl dead show` of an unknown id). */
  NOT_FOUND: 4,
  /** A destructive operation was not confirmed (answer "no", or no TTY and no `--yes`). */
  NOT_CONFIRMED: 5,
  /** The backend could not be reached (`UNREACHABLE`): worth retrying later. */
  UNREACHABLE: 6,
  /** The backend refused the credentials (`AUTH_FAILED`): retrying will not help. */
  AUTH_FAILED: 7,
  /** Interrupted by SIGINT/SIGTERM before the work was done (rerun to continue). */
  INTERRUPTED: 130,
} as const);

/** One of the {@link EXIT} codes. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command-line mistake: printed with a hint to `--help`, exit code {@link EXIT.USAGE}. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The exit code of a `BgError` code: `QUEUE_NOT_FOUND` is {@link EXIT.NOT_FOUND}, `UNREACHABLE`
 * and `AUTH_FAILED` have their own (a script retries the one, not the other), `INVALID_ARGUMENT`
 * is a usage error, anything else {@link EXIT.FAILURE}.
 */
export function exitCodeOf(code: string): ExitCode {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return EXIT.USAGE;
    case 'QUEUE_NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'UNREACHABLE':
      return EXIT.UNREACHABLE;
    case 'AUTH_FAILED':
      return EXIT.AUTH_FAILED;
    default:
      return EXIT.FAILURE;
  }
}

/** A failure with a chosen exit code and a message for stderr. */
export class CliFailure extends Error {
  /** Exit code to end with. */
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = 'CliFailure';
    this.exitCode = exitCode;
  }
}
