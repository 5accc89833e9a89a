import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startRedis } from '@bg/backends/redis';
import { bgWorker } from '../bench/rounds.js';
const server = await startRedis();
if (!server) throw new Error('no redis');
const args = { url: server.url, jobs: 50_000, concurrency: 50 };
const session = new Session();
session.connect();
for (let i = 0; i < 4; i++) {
  if (i === 3) await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true } as never);
  const r = await bgWorker(args, { warmup: i === 0 } as never);
  console.log('round', i, JSON.stringify(r).slice(0, 160));
}
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: unknown };
writeFileSync('/tmp/heap.json', JSON.stringify(profile));
await server.stop();
