import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { emulatorAuth } from '../src/clients.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('a process on the Pub/Sub emulator', () => {
  it.skipIf(!endpoint)(
    'prints no MetadataLookupWarning (the stub asked Application Default Credentials for its universe domain)',
    async () => {
      // A fresh process, as every `bgctl` command is: Node prints a process warning once per process.
      const script = `
      const { pubsubAdapter } = await import(${JSON.stringify(dist)});
      const adapter = pubsubAdapter({ projectId: ${JSON.stringify(projectId)}, apiEndpoint: ${JSON.stringify(endpoint)} });
      await adapter.ensureQueue('warn-check');
      console.log(JSON.stringify(await adapter.stats('warn-check')));
      await adapter.close();
    `;
      const env = { ...process.env };
      // The test runner may set these to keep such lookups quiet: this test needs the default.
      delete env.METADATA_SERVER_DETECTION;
      delete env.NODE_NO_WARNINGS;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, `the process failed: ${err}`).toBe(0);
      expect(out, 'stats of the queue').toContain('"ready"');
      expect(err, 'what the process printed to stderr').not.toMatch(/MetadataLookupWarning|Warning/);
    },
    60_000,
  );

  it('emulator clients name the default universe domain; clients of Google and a given domain are left alone', () => {
    expect(emulatorAuth({ sslCreds: {} } as never), 'an emulator (insecure channel)').toEqual({
      universeDomain: 'googleapis.com',
    });
    expect(emulatorAuth({} as never), 'Google (credentials)').toEqual({});
    expect(emulatorAuth({ sslCreds: {}, universeDomain: 'example.com' } as never), 'a domain given').toEqual({});
  });
});
