import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { captureIo } from './capture-io.js';

async function waitFor<T>(read: () => T | undefined, what: () => string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('bgctl dashboard', () => {
  it('refuses a non-loopback --host without an access token', async () => {
    const out = captureIo();
    const code = await runCli(['dashboard', 'memory://dash-cli', '--host', '0.0.0.0'], { io: out });
    expect(code, 'bgctl dashboard --host 0.0.0.0 without --token → usage error').toBe(2);
    expect(out.text(), 'says a token is needed').toMatch(/give an access token \(--token or \$BG_DASHBOARD_TOKEN\)/);
  });

  it('serves the dashboard on a free loopback port until interrupted', async () => {
    const out = captureIo();
    const controller = new AbortController();
    const running = runCli(['dashboard', 'memory://dash-cli', '--port', '0', '--queue', 'emails'], {
      io: out,
      signal: controller.signal,
    });
    const url = await waitFor(
      () => /bg dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.text())?.[1],
      () => `the listening line (output so far: ${out.text()})`,
    );
    const res = await fetch(url);
    const page = await res.text();
    expect(res.status, `GET ${url}`).toBe(200);
    expect(page, 'the configured queue is listed').toContain('data-queue="emails"');
    controller.abort();
    expect(await running, 'exit code after Ctrl-C').toBe(0);
    expect(out.text(), 'stopped cleanly').toContain('dashboard stopped');
  });
});
