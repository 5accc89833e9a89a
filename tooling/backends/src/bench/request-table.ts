/**
 * Prints requests per 1 000 jobs for each contestant (medians over its rounds), one column per
 * counted key (a key ending in " max" is a round's peak, printed as is): the side-by-side
 * request comparison of the bench.
 */
import { median } from './rounds.js';
import { formatTable } from './table.js';

/** Prints the table of `perRound` (contestant → one count record per round) for `jobs` jobs a round. */
export function printRequestTable(
  perRound: ReadonlyMap<string, readonly Readonly<Record<string, number>>[]>,
  jobs: number,
  columns: readonly string[],
): void {
  const rows = [...perRound].map(([name, rounds]) => [
    name,
    ...columns.map((key) => {
      // "… max" keys are a round's peak (requests in flight at once), not a count.
      const perJobs = key.endsWith(' max') ? 1 : 1_000 / jobs;
      const value = median(rounds.map((r) => (r[key] ?? 0) * perJobs));
      return value >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(1);
    }),
  ]);
  console.log(
    `\nrequests per 1 000 jobs, medians of the rounds (a round counts from its first send to its stop; "max": most in flight at once)`,
  );
  console.log(formatTable(['contestant', ...columns], rows));
}
