/**
 * `{ code, message }` of a failure, for the `--json` summary of a run it cut short (`dead
 * replay`/`purge`, `move`): stdout still says what was done before it, stderr has the error.
 * The message is scrubbed of secrets with the rest of the output.
 */
export function errorSummary(error: unknown): { code: string | null; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === 'string' ? code : null, message: error instanceof Error ? error.message : String(error) };
}
