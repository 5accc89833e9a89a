import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Inside the package (its `"type": "module"` and its node_modules apply), ignored by git. */
const OUT_DIR = fileURLToPath(new URL('../.tmp/worker/', import.meta.url));

let built: string | undefined;

/**
 * The worker process as plain JavaScript: every `src/*.ts` file transpiled (types
 * stripped, nothing bundled) into `.tmp/worker/`, once per harness process. The worker is
 * forked with plain `node`, not `node --import tsx`: on Node 20 tsx's loader hooks run every
 * import of the process (the SDKs are hundreds of modules) through a loader thread, which
 * cost a booting worker 0.9–1.6 s of CPU. Returns the path of `worker-process.js`.
 */
export function buildWorker(): string {
  if (built === undefined) {
    const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
    mkdirSync(OUT_DIR, { recursive: true });
    for (const file of readdirSync(SRC_DIR)) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const { outputText } = ts.transpileModule(readFileSync(join(SRC_DIR, file), 'utf8'), {
        fileName: file,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      });
      const out = join(OUT_DIR, file.replace(/\.ts$/, '.js'));
      // Another harness may be reading it: replace the file whole, never write it in place.
      const tmp = `${out}.${process.pid}.tmp`;
      writeFileSync(tmp, outputText);
      renameSync(tmp, out);
    }
    built = join(OUT_DIR, 'worker-process.js');
  }
  return built;
}
