// Measures dead-letter paging of the dashboard over a private redis-server holding many dead
// letters (default 100 000): first page, pages deep in the store, filtered pages, and the scan
// budget. Run: pnpm --filter @bg/dashboard bench   (BENCH_DEAD=20000 for a quicker run)
import { createServer } from 'node:http';
import { startRedis } from '@bg/backends/redis';
import { connect, encodeEnvelope, uuidv7 } from '@bg/core';
import { createDashboard, encodeCursor } from '../dist/index.js';

const TOTAL = Number(process.env.BENCH_DEAD ?? 100_000);
const QUEUE = 'bench-dead';
const server = await startRedis();
if (!server) throw new Error('redis-server is not installed');
const url = `${server.url}/0?prefix=bg-dash-bench`;
const adapter = await connect(url);
await adapter.ensureQueue(QUEUE);

const seedStart = Date.now();
const BATCH = 100;
async function seedBatch(offset) {
  const messages = Array.from({ length: BATCH }, (_, i) => {
    const id = uuidv7();
    const thumb = (offset + i) % 20 === 0;
    const type = thumb ? 'image.thumbnail' : 'email.welcome';
    return {
      id,
      body: encodeEnvelope({ bg: 1, id, type, v: 1, payload: { n: offset + i }, createdAt: new Date().toISOString() }),
      attributes: { 'bg-type': type },
    };
  });
  await adapter.send(QUEUE, messages);
}
// Seed in waves: send, then lease and dead-letter everything that is ready.
for (let done = 0; done < TOTAL; done += BATCH * 10) {
  await Promise.all(Array.from({ length: Math.min(10, (TOTAL - done) / BATCH) }, (_, j) => seedBatch(done + j * BATCH)));
  for (;;) {
    const got = await adapter.receive(QUEUE, { max: 100, leaseMs: 60_000, waitMs: 0 });
    if (got.length === 0) break;
    await Promise.all(
      got.map(async (m) => {
        const thumb = m.attributes['bg-type'] === 'image.thumbnail';
        await adapter.deadLetter(QUEUE, m, {
          reason: thumb ? 'permanent-error' : 'max-attempts',
          error: { name: 'Error', message: thumb ? 'cannot read HEIC' : 'SMTP 451 greylisted' },
          attempts: m.deliveryCount,
          deadLetteredAt: Date.now(),
        });
        await adapter.ack(QUEUE, m.handle);
      }),
    );
  }
}
const stats = await adapter.stats(QUEUE);
console.log(`seeded ${stats.dead} dead letters in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

const dashboard = createDashboard({ backends: [{ name: 'bench', adapter }] });
const http = createServer(dashboard);
await new Promise((r) => http.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${http.address().port}/b/0/q/${QUEUE}/dead`;

async function timed(label, path, runs = 5) {
  const times = [];
  let rows = 0;
  let text = '';
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = await fetch(`${base}${path}`);
    text = await res.text();
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`${label}: HTTP ${res.status}`);
    rows = (text.match(/name="id" value=/g) ?? []).length;
  }
  times.sort((a, b) => a - b);
  const scanned = /([\d,]+) read for this page/.exec(text)?.[1];
  console.log(
    `${label.padEnd(44)} median ${times[Math.floor(runs / 2)].toFixed(1).padStart(7)} ms  rows ${String(rows).padStart(3)}${scanned ? `  read ${scanned}` : ''}`,
  );
}

/** The adapter's cursor of the page starting after `offset` dead letters (walked in pages of 1 000). */
async function cursorAt(offset) {
  let cursor;
  for (let at = 0; at < offset; ) {
    const limit = Math.min(1_000, offset - at);
    const page = await adapter.listDeadLetters(QUEUE, { limit, ...(cursor ? { cursor } : {}) });
    cursor = page.cursor;
    at += limit;
  }
  return cursor;
}
const middle = encodeCursor({ page: await cursorAt(Math.floor(TOTAL / 2)), skip: 0 });
const last = encodeCursor({ page: await cursorAt(TOTAL - 200), skip: 0 });

await fetch(`${base}`); // first viewer starts the poller
await timed('first page (50)', '?limit=50');
await timed(`page at ${Math.floor(TOTAL / 2).toLocaleString('en-US')} (50)`, `?limit=50&cursor=${middle}`);
await timed('last page (200)', `?limit=200&cursor=${last}`);
await timed('filter reason=permanent-error (5 %, 50)', '?limit=50&reason=permanent-error');
await timed('filter text=heic (5 %, 200)', '?limit=200&text=heic');
await timed('filter with no match (scan budget 5 000)', '?limit=50&text=no-such-error');

http.closeAllConnections();
http.close();
await dashboard.close();
await adapter.close();
await server.stop();
