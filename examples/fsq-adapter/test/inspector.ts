// Reads and writes the queue folders with plain `node:fs`, as the README documents them,
// not through the adapter under test: the suite's independent view of what is stored.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inspector } from '@bg/conformance';

const names = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => !n.startsWith('.'));

/** An inspector of the queues under `root`. */
export function fsqInspector(root: string): Inspector {
  return {
    liveCount: async (queue) => (await names(join(root, queue, 'state'))).length,
    deadCount: async (queue) => (await names(join(root, queue, 'dead'))).filter((n) => n.endsWith('.json')).length,
    async sendRaw(queue, body) {
      // A foreign producer: message file first, then the state file that makes it visible now.
      const now = Date.now();
      const key = `${now.toString(36).padStart(9, '0')}zzzz${randomBytes(5).toString('hex')}`;
      const temporary = join(root, queue, 'msgs', `.raw-${key}`);
      await writeFile(temporary, JSON.stringify({ id: randomUUID(), body, attributes: {}, enqueuedAt: now }));
      await rename(temporary, join(root, queue, 'msgs', `${key}.json`));
      await writeFile(join(root, queue, 'state', `${key}.0.${now}.w${randomBytes(6).toString('hex')}`), '');
    },
  };
}
