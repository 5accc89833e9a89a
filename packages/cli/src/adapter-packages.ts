import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isBgError, normalizeScheme, registerAdapter } from '@bg/core';
import { CliFailure, EXIT, UsageError } from './exit-codes.js';

/** The environment variable naming adapter packages to load, comma-separated. */
export const ADAPTERS_ENV = 'BGCTL_ADAPTERS';

/** An npm package name (optionally scoped), as `npm install` accepts it. */
const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/**
 * Takes every `--adapter <package>` and `--adapter=<package>` out of a command line (up to a
 * `--`), wherever it stands, and returns the package names and the remaining arguments.
 * Pure: nothing is loaded.
 */
export function extractAdapterOptions(argv: readonly string[]): { names: string[]; rest: string[] } {
  const names: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--adapter') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-'))
        throw new UsageError('--adapter needs a package name, e.g. --adapter bg-adapter-fsq');
      names.push(value);
      i++;
    } else if (arg.startsWith('--adapter=')) {
      names.push(arg.slice('--adapter='.length));
    } else {
      rest.push(arg);
    }
  }
  return { names, rest };
}

/**
 * The adapter packages to load: the `--adapter` values, then `$BGCTL_ADAPTERS`; each may be
 * comma-separated; duplicates dropped. A name is an npm package name or a path to a module
 * (starting with `.` or `/`). Throws {@link UsageError} for anything else.
 */
export function adapterPackageNames(
  optionValues: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const all = [...optionValues, env[ADAPTERS_ENV] ?? '']
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  for (const name of all) {
    if (!isPath(name) && !PACKAGE_NAME.test(name)) {
      throw new UsageError(
        `--adapter / ${ADAPTERS_ENV}: "${name}" is not a package name (e.g. bg-adapter-fsq or @acme/bg-fsq) or a path`,
      );
    }
  }
  return [...new Set(all)];
}

function isPath(name: string): boolean {
  return name.startsWith('.') || isAbsolute(name);
}

/**
 * Checks what an adapter package exports — `schemes` (non-empty array of URL schemes such as
 * `'fsq:'`) and `fromUrl(url)` — and returns its schemes. Throws a {@link CliFailure} naming
 * what is missing.
 */
export function adapterPackageSchemes(name: string, loaded: unknown): string[] {
  const mod = loaded as { schemes?: unknown; fromUrl?: unknown } | undefined;
  if (typeof mod?.fromUrl !== 'function') {
    throw new CliFailure(EXIT.FAILURE, `adapter package ${name} does not export fromUrl(url): it is not a bg adapter package`);
  }
  const schemes = mod.schemes;
  if (!Array.isArray(schemes) || schemes.length === 0 || !schemes.every((s) => typeof s === 'string')) {
    throw new CliFailure(
      EXIT.FAILURE,
      `adapter package ${name} does not export schemes (e.g. export const schemes = ['fsq:']): bgctl cannot tell which URLs it serves`,
    );
  }
  try {
    return schemes.map((s: string) => normalizeScheme(s));
  } catch (error) {
    throw new CliFailure(EXIT.FAILURE, `adapter package ${name}: ${isBgError(error) ? error.message : String(error)}`);
  }
}

/**
 * Imports an adapter package as the CLI's user would expect: from beside `@bg/cli` first,
 * then resolved from the working directory (the project's own `node_modules`); a path is
 * imported as a file relative to `cwd`.
 */
export async function importAdapterPackage(name: string, cwd: string): Promise<unknown> {
  if (isPath(name)) return import(pathToFileURL(resolve(cwd, name)).href);
  try {
    return await import(name);
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    let resolved: string;
    try {
      resolved = createRequire(join(cwd, 'package.json')).resolve(name);
    } catch {
      throw new CliFailure(
        EXIT.FAILURE,
        `adapter package ${name} is not installed: npm install ${name} in this project (or beside @bg/cli)`,
      );
    }
    return import(pathToFileURL(resolved).href);
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Imports each adapter package and registers its schemes with `registerAdapter` of
 * `@bg/core`, so `connect()` — and every command — serves their URLs. Returns the schemes
 * registered per package.
 */
export async function loadAdapterPackages(names: readonly string[], cwd: string): Promise<Record<string, string[]>> {
  const registered: Record<string, string[]> = {};
  for (const name of names) {
    const loaded = await importAdapterPackage(name, cwd);
    const schemes = adapterPackageSchemes(name, loaded);
    for (const scheme of schemes) {
      try {
        registerAdapter(scheme, loaded as Parameters<typeof registerAdapter>[1]);
      } catch {
        throw new UsageError(
          `adapter package ${name} serves "${scheme}", which another adapter package already serves: load only one of them`,
        );
      }
    }
    registered[name] = schemes;
  }
  return registered;
}
