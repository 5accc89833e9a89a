/** The median of a list of numbers (the mean of the middle two for an even count; 0 when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Runs each variant once per round, rotating their order every round so that no variant
 * always runs right after another (a shared machine drifts; adjacent runs see the same
 * weather). Returns each variant's results in round order; `onRound` sees each round's.
 */
export async function runRounds<K extends string, R>(
  rounds: number,
  variants: Readonly<Record<K, (round: number) => Promise<R>>>,
  onRound?: (round: number, results: Readonly<Record<K, R>>) => void,
): Promise<Record<K, R[]>> {
  const names = Object.keys(variants) as K[];
  const all = Object.fromEntries(names.map((name) => [name, [] as R[]])) as Record<K, R[]>;
  for (let round = 1; round <= rounds; round++) {
    const results = {} as Record<K, R>;
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length] as K;
      results[name] = await variants[name](round);
      all[name].push(results[name]);
    }
    onRound?.(round, results);
  }
  return all;
}
