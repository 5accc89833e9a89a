#!/usr/bin/env node
// Prepares the engines floor run in the background while the main suite runs (it is mostly
// registry and disk work): the copy of the workspace with the floor overrides
// (floor.mjs's prepareFloorCopy), the floor Node, and `pnpm install` in the copy. Writes
// `{ dir, node, overrides, installed }` as JSON to the file named by its one argument; its
// output (for the CI log) goes to stdout and stderr.
//
//   node tooling/scripts/floor-prepare.mjs <result.json>
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floorEnv, prepareFloorCopy } from './floor.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = process.argv[2];
if (!out) throw new Error('usage: floor-prepare.mjs <result.json>');
const startedAt = Date.now();
const floor = prepareFloorCopy(root);
console.log(`floor: Node ${floor.node}, oldest admitted versions ${JSON.stringify(floor.overrides)} in ${floor.dir}`);
const env = floorEnv(root, floor.node, process.env);
const withNode = join(root, 'tooling/scripts/with-node.sh');
const version = spawnSync('sh', [withNode, 'node', '--version'], { cwd: floor.dir, env, stdio: 'inherit' });
let installed = false;
if (version.status === 0) {
  console.log('floor: install: pnpm install --no-frozen-lockfile --prefer-offline');
  const install = spawnSync('sh', [withNode, 'pnpm', 'install', '--no-frozen-lockfile', '--prefer-offline'], {
    cwd: floor.dir,
    env,
    stdio: 'inherit',
  });
  installed = install.status === 0;
}
console.log(
  `floor: prepared in ${Math.round((Date.now() - startedAt) / 1000)} s (${installed ? 'installed' : 'install FAILED'})`,
);
writeFileSync(out, JSON.stringify({ ...floor, installed }));
