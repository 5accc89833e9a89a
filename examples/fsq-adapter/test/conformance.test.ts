import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformance } from '@bg/conformance';
import { registerAdapter } from '@bg/core';
import { afterAll, describe, expect, it } from 'vitest';
import * as fsq from '../src/index.js';
import { FSQ_CAPABILITIES, fsqAdapter } from '../src/index.js';
import { fsqInspector } from './inspector.js';

const root = mkdtempSync(join(tmpdir(), 'fsq-conformance-'));
const empty = mkdtempSync(join(tmpdir(), 'fsq-empty-'));
// As an application would: register the scheme once, then connect by URL (the connect.from-url case).
registerAdapter('fsq:', fsq);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

runConformance(
  { describe, it, expect, afterAll },
  {
    name: 'fsq',
    capabilities: FSQ_CAPABILITIES,
    concurrent: true,
    createAdapter: () => fsqAdapter({ root }),
    inspector: () => fsqInspector(root),
    // Every lease change is a rename on libuv's thread pool, queued behind the fsyncs of the
    // cases running at once: on a busy machine a heartbeat can wait longer than the default
    // 300 ms lease. A 1 s lease and 200 ms tolerance keep the cases meaningful there.
    timing: { leaseMs: 1_000, toleranceMs: 200 },
    // No server: the data is the folder. A "restart" is every adapter closed and a new one
    // opened on the same files, which the durability case does around this hook.
    restartBackend: async () => {},
    errors: {
      missingQueue: () => fsqAdapter({ root: empty }),
      unreachable: () => fsqAdapter({ root: join(empty, 'not-mounted') }),
    },
    url: {
      url: `fsq://${root}`,
      malformed: ['fsq://admin:hunter2Secret@files.example/var/queues', 'fsq:///'],
      secret: 'hunter2Secret',
    },
    workerProcess: {
      adapterModule: fileURLToPath(new URL('./child-adapter.mjs', import.meta.url)),
      env: { FSQ_ROOT: root },
    },
  },
);
