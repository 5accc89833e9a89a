/**
 * The file-system edges of the adapter: durable writes, atomic renames, listings.
 * @module
 */
import { open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { newToken } from './layout.js';

/** Whether an error is "no such file or directory". */
export function isMissing(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'ENOENT';
}

/** Flushes a directory's entries (new, renamed or removed names) to disk. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `text` to `dir/name` all or nothing: into a temporary file, flushed, then renamed
 * into place (a reader never sees half a file). The directory itself is not flushed: call
 * {@link syncDir} once for a batch.
 */
export async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
  const temporary = join(dir, `.tmp-${process.pid}-${newToken()}`);
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, join(dir, name));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Creates an empty file; fails with `EEXIST` when the name is taken. */
export async function createEmpty(path: string): Promise<void> {
  const handle = await open(path, 'wx');
  await handle.close();
}

/**
 * Renames `from` to `to`: true when this call moved it, false when `from` no longer exists
 * (someone else renamed or removed it first — the compare-and-swap of this adapter).
 */
export async function claim(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Removes a file; false when it was already gone. */
export async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** The names in a directory, without temporary files. */
export async function listNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith('.'));
}
