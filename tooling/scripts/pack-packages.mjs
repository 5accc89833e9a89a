#!/usr/bin/env node
// Packs every publishable workspace package (not private) with `pnpm pack`, as a registry
// would receive it, into OUTDIR, and writes OUTDIR/manifest.json: { "<name>": "<abs .tgz path>" }.
// Packages must be built first (`pnpm build`). Used by the consumer test and by the
// reference third-party adapter, which install these tarballs with npm outside the workspace.
//
//   node tooling/scripts/pack-packages.mjs <outdir>
//
// As a module: `packPackages(outdir)` returns the same manifest object.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The publishable workspace packages: `{ name, dir }` for each package.json not marked private. */
export function publishablePackages() {
  const found = [];
  for (const group of ['packages', 'apps', 'tooling']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const file = join(base, entry, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (!pkg.private) found.push({ name: pkg.name, dir: join(base, entry) });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Packs each publishable package (or only those named in `only`) into `outdir`; returns
 * `{ [name]: absoluteTarballPath }`.
 */
export function packPackages(outdir, only) {
  const dest = resolve(outdir);
  mkdirSync(dest, { recursive: true });
  const manifest = {};
  for (const { name, dir } of publishablePackages().filter((p) => !only || only.includes(p.name))) {
    const before = new Set(readdirSync(dest));
    execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    const added = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
    const tarball = added[0] ?? readdirSync(dest).find((f) => f.startsWith(`${name.replace('@', '').replace('/', '-')}-`));
    if (!tarball) throw new Error(`pnpm pack wrote no tarball for ${name} into ${dest}`);
    manifest[name] = join(dest, tarball);
  }
  writeFileSync(join(dest, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error('usage: node tooling/scripts/pack-packages.mjs <outdir>');
    process.exit(2);
  }
  const manifest = packPackages(outdir);
  for (const [name, file] of Object.entries(manifest)) console.log(`${name}\t${file}`);
}
