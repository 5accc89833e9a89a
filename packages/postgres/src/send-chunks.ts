/**
 * Most characters the array parameters of one send statement may take. node-postgres writes each
 * array as one string literal, and V8 strings end near 2^29 characters: a batch within the
 * manifest (1 000 bodies of 1 MiB) would fail at every try with "Invalid string length".
 */
export const STATEMENT_CHARS = 64 * 1024 * 1024;

/**
 * The characters an entry may take in the statement's array literals, at most: its id, body and
 * attributes, each of whose characters may be escaped (a quote or backslash doubles), with quotes
 * and separators. Pure.
 */
export function entryChars(id: string, body: string, attributes: string | null): number {
  return 2 * (id.length + body.length + (attributes?.length ?? 0)) + 16;
}

/**
 * Splits entries of `sizes` characters into consecutive ranges `[start, end)` of at most
 * `budget` characters each (an entry larger than the budget alone in its range), in order;
 * one range for an empty list. Pure.
 */
export function statementRanges(sizes: readonly number[], budget: number = STATEMENT_CHARS): Array<readonly [number, number]> {
  const ranges: Array<readonly [number, number]> = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] as number;
    if (i > start && used + size > budget) {
      ranges.push([start, i]);
      start = i;
      used = 0;
    }
    used += size;
  }
  ranges.push([start, sizes.length]);
  return ranges;
}

/**
 * The entries of a batch a split send stores: those without a deduplication key, and the first
 * of each key (the later ones are its duplicates, answered from its row). In order. Pure.
 */
export function firstOfEachKey<M extends { readonly deduplicationKey?: string | undefined }>(messages: readonly M[]): M[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    const key = m.deduplicationKey;
    if (key === undefined) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
