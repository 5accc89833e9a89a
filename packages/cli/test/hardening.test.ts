import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { memoryAdapter } from '@bg/memory';
import { describe, expect, it } from 'vitest';
import { moveJobs } from '../src/move-jobs.js';
import { printable } from '../src/printable.js';
import { sameBackend } from '../src/same-backend.js';
import { scrubValue } from '../src/secrets.js';
import { renderTable } from '../src/table.js';
import { runCaptured } from './capture-io.js';
import { BIN, CHILD_ENV, runShell } from './helpers.js';

/** What an outside audit of bgctl found; each test failed on the code before its fix. */

const id = (n: number) => `0190a0b0-c0d0-7e00-8000-${String(n).padStart(12, '0')}`;

async function seedLive(adapter: ReturnType<typeof memoryAdapter>, queue: string, count: number): Promise<void> {
  await adapter.ensureQueue(queue);
  await adapter.send(
    queue,
    Array.from({ length: count }, (_, n) => ({ id: id(n), body: JSON.stringify({ n }) })),
  );
}

describe('bgctl move never deletes a job the destination did not store', () => {
  it('a queue moved there and back and there again within the deduplication window arrives whole (every job was lost)', async () => {
    const a = memoryAdapter();
    const b = memoryAdapter();
    await seedLive(a, 'hop', 3);
    await b.ensureQueue('hop');
    for (const [from, to] of [
      [a, b],
      [b, a],
      [a, b],
    ] as const) {
      const result = await moveJobs(from, to, { queue: 'hop', idleMs: 50 });
      expect(result, 'each move moves the three jobs').toMatchObject({ live: 3, duplicates: 0 });
    }
    expect(
      { a: (await a.stats('hop')).ready, b: (await b.stats('hop')).ready },
      'jobs on each side after the third move',
    ).toEqual({
      a: 0,
      b: 3,
    });
  });

  it('a destination that is the source under another name keeps every job (they were acked away)', async () => {
    const a = memoryAdapter();
    await seedLive(a, 'self', 3);
    const result = await moveJobs(a, a, { queue: 'self', idleMs: 50 });
    expect(result.duplicates, 'jobs the destination refused as duplicates of this move').toBe(3);
    expect((await a.stats('self')).ready, 'jobs still in the queue').toBe(3);
  });

  it('sameBackend sees through the spellings of one backend', () => {
    const pairs: [string, string, boolean][] = [
      ['redis://:pw@127.0.0.1:6379', 'redis://:pw@localhost', true],
      ['redis://127.0.0.1:6379/0', 'redis://127.0.0.1', true],
      ['redis://127.0.0.1/1', 'redis://127.0.0.1/2', false],
      ['redis://other-user:a@db.example:6379?prefix=bg', 'rediss://db.example?prefix=bg', true],
      ['redis://db.example?prefix=a', 'redis://db.example?prefix=b', false],
      ['postgresql://u:p@db:5432/jobs', 'postgres://db/jobs', true],
      ['sqs://us-east-1', 'sqs://eu-west-1', false],
    ];
    for (const [left, right, same] of pairs) expect(sameBackend(left, right), `sameBackend(${left}, ${right})`).toBe(same);
  });

  it('bgctl move refuses two spellings of one backend', async () => {
    const run = await runCaptured(['move', '--from', 'redis://127.0.0.1:1/0', '--to', 'redis://localhost:1']);
    expect(run.code, run.err).toBe(2);
    expect(run.err).toContain('--from and --to are the same backend');
  });

  it('bgctl move --lease must be a duration longer than 0', async () => {
    for (const [lease, says] of [
      ['0', '--lease must be longer than 0'],
      ['soon', '--lease: "soon" is not a duration'],
    ] as const) {
      const run = await runCaptured(['move', '--from', 'memory:', '--to', 'redis://127.0.0.1:1', '--lease', lease]);
      expect({ code: run.code, out: run.out }, `bgctl move --lease ${lease}: ${run.err}`).toEqual({ code: 2, out: '' });
      expect(run.err, `bgctl move --lease ${lease}`).toContain(says);
    }
  });
});

describe('bgctl enqueue --id and --key', () => {
  it('a bad one is one line naming the option, before any backend is opened', async () => {
    for (const [flag, value, says] of [
      ['--id', 'nope', '--id must be a UUID'],
      ['--key', '', '--key must be 1 to 512 characters, got 0'],
      ['--key', 'k'.repeat(513), '--key must be 1 to 512 characters, got 513'],
    ] as const) {
      const run = await runCaptured(['enqueue', 'redis://127.0.0.1:1', 'a.b', '{}', '--queue', 'q-id', flag, value]);
      const what = `bgctl enqueue ${flag} ${JSON.stringify(value.slice(0, 10))}`;
      expect({ code: run.code, out: run.out }, `${what}: ${run.err}`).toEqual({ code: 2, out: '' });
      expect(run.err, what).toContain(says);
      expect(run.err.trim().split('\n'), `${what}: one line (and the hint)`).toHaveLength(run.err.includes('--help') ? 2 : 1);
    }
  });
});

describe('bgctl move --idle', () => {
  it('past what a timer holds is a usage error before any backend is opened (not a receive error after)', async () => {
    const run = await runCaptured([
      'move',
      '--from',
      'redis://127.0.0.1:1',
      '--to',
      'redis://127.0.0.1:1/1',
      '--queue',
      'q-idle',
      '--idle',
      '30d',
    ]);
    expect({ code: run.code, out: run.out }, `bgctl move --idle 30d: ${run.err}`).toEqual({ code: 2, out: '' });
    expect(run.err, 'bgctl move --idle 30d').toContain('--idle: "30d" is too long');
    expect(run.err, 'no backend was reached').not.toMatch(/UNREACHABLE|failed/);
  });
});

describe('bgctl arguments', () => {
  it('an empty --queue is a usage error, not the default queue', async () => {
    for (const queue of ['', ',', 'a,,b']) {
      const run = await runCaptured(['dead', 'purge', 'memory:', '--queue', queue, '--all', '--dry-run']);
      expect({ code: run.code, out: run.out }, `--queue ${JSON.stringify(queue)}: ${run.err}`).toEqual({ code: 2, out: '' });
    }
  });

  it('numbers are whole decimal numbers in range; a negative one is explained', async () => {
    const negative = await runCaptured(['dead', 'list', 'memory:', '--limit', '-1']);
    expect(negative.code).toBe(2);
    expect(negative.err, 'how to give a value that starts with "-"').toContain('--limit=VALUE');
    for (const value of ['0x10', '1e3', '-1', '2.5']) {
      const run = await runCaptured(['dead', 'list', 'memory:', `--limit=${value}`]);
      expect(run.code, `--limit=${value}: ${run.err}`).toBe(2);
    }
    const port = await runCaptured(['dashboard', 'memory:', '--port', '70000']);
    expect(port.code, `--port 70000: ${port.err}`).toBe(2);
  });

  it('with BG_URL set, a job type with a colon stays a job type', async () => {
    const run = await runCaptured(['enqueue', 'billing:charge', '{}', '--json'], { BG_URL: 'memory:' });
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out).envelope.type).toBe('billing:charge');
  });
});

describe('bgctl output', () => {
  it('--json stays JSON whatever the password is (a password "false" turned false into ***)', async () => {
    // The password comes from BG_URL (scrubbed from all output, even when an argument names the backend).
    const run = await runCaptured(['enqueue', 'memory:', 'some.job', '{"a":1}', '--json'], {
      BG_URL: 'redis://ops:false@127.0.0.1:1',
    });
    expect(run.code, run.err).toBe(0);
    const parsed = JSON.parse(run.out) as { duplicate: unknown };
    expect(parsed.duplicate, 'the boolean field').toBe(false);
  });

  it('--json errors are one JSON object on stderr, with the code', async () => {
    const run = await runCaptured(['stats', 'memory:', '--queue', 'Not A Queue', '--json']);
    expect(run.code).toBe(2);
    expect(run.out, 'stdout').toBe('');
    expect(JSON.parse(run.err), 'stderr').toMatchObject({ error: { code: 'INVALID_ARGUMENT', exitCode: 2 } });
  });

  it('scrubValue masks secrets inside string fields (a JSON body whose quotes the text would escape)', () => {
    const value = scrubValue(
      {
        body: '{"password":"pl-secret","config":"{\\"token\\":\\"tk-nested-7\\"}"}',
        count: 12,
        ok: false,
        nested: [{ apiKey: 'k-123456', pin: 8080, password: 918273645 }],
      },
      ['hunter22'],
    );
    for (const secret of ['pl-secret', 'k-123456', 'tk-nested-7', '918273645']) {
      expect(JSON.stringify(value), `scrubValue left ${secret}`).not.toContain(secret);
    }
    expect(JSON.stringify(value), 'a number under a name that is not secret').toContain('"pin":8080');
    expect(value, 'numbers and booleans untouched').toMatchObject({ count: 12, ok: false });
  });

  it('job data cannot drive the terminal: escape sequences are shown, not sent', () => {
    expect(printable('evil\u001b[2Jtype\u009b1m')).toBe('evil\\u001b[2Jtype\\u009b1m');
    expect(printable('line one\n\tline two'), 'newlines and tabs kept').toBe('line one\n\tline two');
    const table = renderTable(['TYPE'], [['bad\u001b]0;pwned\u0007']]);
    expect(
      [...table].filter((c) => c === '\u001b' || c === '\u0007'),
      'control characters in a table cell',
    ).toEqual([]);
  });

  it('help is printed as written (it was run through the secret scrubber), and on stderr for a usage error', async () => {
    const help = await runCaptured(['--help']);
    expect(help.out).toContain('redis://[:password@]host:6379');
    const none = await runCaptured([]);
    expect({ code: none.code, out: none.out }, 'bgctl with no arguments').toEqual({ code: 2, out: '' });
    expect(none.err).toContain('Usage: bgctl <command>');
  });

  it('a file or module error is one line, without a stack trace', async () => {
    const run = await runCaptured(['stats', 'memory:', '--adapter', './no-such-adapter.js']);
    expect(run.code).not.toBe(0);
    expect(run.err, 'no stack frames').not.toMatch(/\n\s+at /);
    expect(run.err.trim().split('\n').length, run.err).toBeLessThanOrEqual(2);
  });

  it('a reader that goes away (| head -0) ends bgctl quietly, without an EPIPE stack', async () => {
    const run = await runShell('bgctl --help | head -c 0; bgctl stats memory: --json | head -c 0');
    expect(run.stderr, 'stderr').not.toMatch(/EPIPE|Unhandled|node:events/);
  });

  it.skipIf(!existsSync('/dev/full'))(
    'output that cannot be written (a full disk) is one line and exit 1, not a stack trace',
    async () => {
      const run = await runShell('bgctl stats memory: --queue q-full > /dev/full');
      expect(run.code, `exit code; stderr: ${run.stderr}`).toBe(1);
      expect(run.stderr.trim(), 'stderr: one line naming the error').toMatch(/^bgctl: cannot write the output: ENOSPC: [^\n]+$/);
    },
  );
});

describe('bgctl signals', () => {
  it('a first SIGTERM ends a command that has nothing to finish (it waited on a silent backend)', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const child = spawn(process.execPath, [BIN, 'stats', `redis://127.0.0.1:${port}`], { env: CHILD_ENV, stdio: 'pipe' });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Once it waits on the backend (its connection is open), the signal comes.
      await new Promise<void>((resolve) => silent.once('connection', () => resolve()));
      const sentAt = Date.now();
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000)).then(() => 'still running')]);
      if (outcome === 'still running') child.kill('SIGKILL');
      expect(
        { outcome, after: outcome === 'still running' ? 'n/a' : 'in time' },
        `exit after SIGTERM (${Date.now() - sentAt} ms): ${stderr}`,
      ).toEqual({
        outcome: 130,
        after: 'in time',
      });
    } finally {
      silent.close();
    }
  });
});
