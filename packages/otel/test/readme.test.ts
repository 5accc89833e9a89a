import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));

/** What the README asks the reader to do first: register an SDK (here with in-memory exporters). */
const SDK = `
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
const exported = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exported)] }));
process.on('beforeExit', () => {
  const spans = exported.getFinishedSpans().map((s) => ({ name: s.name, trace: s.spanContext().traceId }));
  console.log('SPANS', JSON.stringify(spans));
});
`;

describe('the README example', () => {
  it('runs as written once an SDK is registered: its handler logs inside one trace with the request', async () => {
    const readme = await readFile(join(here, '..', 'README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, 'the first ts block of the README').toContain('instrument()');
    // The example's imports first, then the SDK registration, then the rest.
    const lines = (example ?? '').split('\n');
    const imports = lines.filter((line) => line.startsWith('import '));
    const body = lines.filter((line) => !line.startsWith('import '));
    const sdkImports = SDK.split('\n').filter((line) => line.startsWith('import '));
    const sdkBody = SDK.split('\n').filter((line) => !line.startsWith('import '));
    const source = [...sdkImports, ...imports.filter((line) => !sdkImports.includes(line)), ...sdkBody, ...body].join('\n');
    // Inside the package, so that its dependencies resolve.
    const dir = await mkdtemp(join(here, '..', '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      await writeFile(file, source.replace("import { trace } from '@opentelemetry/api';\n", ''));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: dir, timeout: 30_000 });
      const traceId = /sending welcome \{[^}]*trace_id: '([0-9a-f]{32})'/.exec(stdout)?.[1];
      expect(traceId, `the trace id of the handler's log line in:\n${stdout}`).toBeDefined();
      const spans = JSON.parse(
        stdout
          .split('\n')
          .find((line) => line.startsWith('SPANS'))
          ?.slice(6) ?? '[]',
      ) as {
        name: string;
        trace: string;
      }[];
      expect(spans.map((s) => s.name).sort(), 'spans of the example: the request, its send, the process of the job').toEqual([
        'POST /signup',
        'process emails',
        'send emails',
      ]);
      expect(new Set(spans.map((s) => s.trace)).size, 'one trace from the request to the handler').toBe(1);
      expect(traceId, "the handler's log line carries that trace").toBe(spans[0]?.trace);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
