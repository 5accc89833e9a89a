// The engines floor run: a copy of the workspace outside it, installed on the floor Node with
// the OLDEST version each published range admits (pnpm overrides), so both ends of every
// dependency and peer range are tested. The Node version is the floor of the packages'
// `engines.node`; the versions come from the ranges themselves, never from a second list.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { publishablePackages } from './pack-packages.mjs';

/** The lowest version a range admits: `^5.4.0 || ^6.0.0` → `5.4.0`, `>=22.12` → `22.12.0`. */
export function lowestAdmitted(range) {
  const versions = range
    .split('||')
    .map((part) => /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(part.trim()))
    .filter(Boolean)
    .map((m) => [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)]);
  if (versions.length === 0) throw new Error(`no version in range "${range}"`);
  versions.sort(compareVersions);
  return versions[0].join('.');
}

/** Orders `[major, minor, patch]` triples. */
export function compareVersions(a, b) {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The range of every third-party dependency and peer dependency of the published packages
 * (the one with the highest lower end when packages disagree): `{ name: range }`.
 */
export function publishedRanges(manifests) {
  const lows = new Map();
  for (const pkg of manifests) {
    for (const deps of [pkg.dependencies, pkg.peerDependencies]) {
      for (const [name, range] of Object.entries(deps ?? {})) {
        if (range.startsWith('workspace:') || name.startsWith('@bg/')) continue;
        const low = lowestAdmitted(range).split('.').map(Number);
        const prev = lows.get(name);
        if (!prev || compareVersions(low, prev.low) > 0) lows.set(name, { low, range });
      }
    }
  }
  return Object.fromEntries([...lows].sort(([a], [b]) => a.localeCompare(b)).map(([name, { range }]) => [name, range]));
}

/** The lowest published (non-prerelease) version of `name` that `range` admits, asked of the registry with npm. */
export function lowestPublished(name, range) {
  const out = execFileSync('npm', ['view', `${name}@${range}`, 'version', '--json'], { encoding: 'utf8' });
  const parsed = JSON.parse(out || '[]');
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  versions.sort((a, b) => compareVersions(a.split('.').map(Number), b.split('.').map(Number)));
  if (!versions[0]) throw new Error(`the registry has no version of ${name} in "${range}"`);
  return versions[0];
}

/**
 * pnpm overrides pinning each published range to the lowest version the registry has in it,
 * plus `@types/node` of the floor Node's minor.
 */
export function floorOverrides(manifests, nodeFloor, resolve = lowestPublished) {
  const overrides = {};
  for (const [name, range] of Object.entries(publishedRanges(manifests))) overrides[name] = resolve(name, range);
  overrides['@types/node'] = `~${nodeFloor.split('.').slice(0, 2).join('.')}.0`;
  return overrides;
}

/** The floor of `engines.node` over the published packages, e.g. `22.12.0`. */
export function nodeFloor(manifests) {
  const lows = manifests.filter((p) => p.engines?.node).map((p) => lowestAdmitted(p.engines.node).split('.').map(Number));
  lows.sort(compareVersions);
  const highest = lows[lows.length - 1];
  if (!highest) throw new Error('no published package states engines.node');
  return highest.join('.');
}

/**
 * The environment of the floor run for `node` (the floor Node's version): with-node.sh picks
 * that Node and shares the clone's `.tools`; fauxqs 2 (the SQS emulator the tests run, not a
 * dependency of any package) imports node:sqlite, which Node 22.12 has only behind a flag
 * (unflagged from 22.13).
 */
export function floorEnv(root, node, base) {
  const nodeOptions = [base.NODE_OPTIONS, '--experimental-sqlite', '--no-warnings=ExperimentalWarning'];
  const env = { ...base, BG_NODE: node, BG_TOOLS: join(root, '.tools'), NODE_OPTIONS: nodeOptions.filter(Boolean).join(' ') };
  delete env.BG_NODE_ANNOUNCED;
  return env;
}

/**
 * Copies the workspace's files (tracked and untracked, not ignored: no node_modules, dist,
 * .tools) into a fresh temp folder and writes the floor overrides into its root
 * package.json. Returns `{ dir, node, overrides }`.
 */
export function prepareFloorCopy(root) {
  const manifests = publishablePackages().map(({ dir }) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
  const node = nodeFloor(manifests);
  const overrides = floorOverrides(manifests, node);
  const dir = mkdtempSync(join(tmpdir(), 'bg-floor-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      copyFileSync(join(root, file), join(dir, file));
    } catch (error) {
      if (error?.code !== 'ENOENT') throw error; // deleted in the work tree but still tracked
    }
  }
  const pkgFile = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  pkg.pnpm = { ...pkg.pnpm, overrides: { ...pkg.pnpm?.overrides, ...overrides } };
  writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  return { dir, node, overrides };
}
