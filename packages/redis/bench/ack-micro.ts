/**
 * Micro bench of the ack script alone on a private redis-server: a stream with a consumer
 * group, a consumer holding ~150 pending entries, and acks of 50 of them per call (the oldest,
 * in shuffled order), refilled between calls. Prints, per variant, redis-server's µs per ack
 * call from INFO commandstats: the script's total, its nested calls, and the Lua glue between.
 * Run: node --import tsx bench/ack-micro.ts  (ACK_N handles per call, ACK_PENDING pending
 * entries, ACK_CALLS calls per variant, ACK_GAP=1 acks every other entry (the others stay pending
 * between them), ACK_EXTRA=module exporting more `variants` (a Lua text and its arguments each),
 * ACK_VARIANTS=a,b to pick, ACK_GCSTOP=1 to print the Lua heap after each variant).
 */
import { startRedis } from '@bg/backends/redis';
import { Redis } from 'ioredis';
import { ackArguments, sortHandles } from '../src/lease-handle.js';
import { ACK_MANY } from '../src/lua-scripts.js';

const N = Number(process.env.ACK_N ?? 50);
const PENDING = Number(process.env.ACK_PENDING ?? 150);
const CALLS = Number(process.env.ACK_CALLS ?? 2_000);
const GAP = process.env.ACK_GAP === '1';
const ROUNDS = Number(process.env.ACK_ROUNDS ?? 2);

type Args = (stream: string, consumer: string, handles: string[]) => (string | number)[];
interface Variant {
  lua: string;
  args: Args;
  /** Whether a reply says every handle was acked (default: one 1 per handle). */
  ok?: (reply: number[], n: number) => boolean;
}
/** As the adapter sends them: in stream order (it sorts a tick's acks), then ids and counts. */
const sorted: Args = (s, c, h) => {
  sortHandles(h, []);
  return [1, s, 'g', c, ...ackArguments(h)];
};

const variants: Record<string, Variant> = {
  current: {
    lua: ACK_MANY,
    args: sorted,
    ok: (reply, n) => reply.length === 0 || (reply.length === n && reply.every((x) => x === 1)),
  },
};
const extra = process.env.ACK_EXTRA;
if (extra) Object.assign(variants, (await import(extra)).variants as Record<string, Variant>);

const server = await startRedis();
if (!server) throw new Error('redis-server is not installed');
const r = new Redis(server.url);

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

async function read(stream: string, consumer: string, n: number): Promise<string[]> {
  const p = r.pipeline();
  for (let i = 0; i < n; i++) p.xadd(stream, '*', 'bg', 'x'.repeat(180));
  await p.exec();
  const got = (await r.xreadgroup('GROUP', 'g', consumer, 'COUNT', n, 'STREAMS', stream, '>')) as [
    string,
    [string, string[]][],
  ][];
  return (got[0]?.[1] ?? []).map(([id]) => `${id}:1`);
}

async function stats(): Promise<Map<string, { calls: number; usec: number }>> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of (await r.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g))
    out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

async function run(name: string, v: Variant): Promise<void> {
  const stream = `{q}:${name}:${Math.random()}`;
  const consumer = 'proc-12345-abcdef~30000';
  await r.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
  const sha = (await r.script('LOAD', v.lua)) as string;
  let pending = await read(stream, consumer, PENDING);
  if (process.env.ACK_GCSTOP) await r.eval("collectgarbage('stop') return 1", 0);
  let calls = 0;
  let bad = 0;
  let scriptUs = 0;
  const nested = new Map<string, number>();
  for (let c = 0; c < CALLS; c++) {
    let acks: string[];
    if (GAP) {
      // every other one of the oldest 2N: the rest stay pending inside the acked range
      acks = pending.slice(0, 2 * N).filter((_, i) => i % 2 === 0);
      pending = [...pending.slice(0, 2 * N).filter((_, i) => i % 2 === 1), ...pending.slice(2 * N)];
    } else {
      acks = pending.slice(0, N);
      pending = pending.slice(N);
    }
    await r.config('RESETSTAT');
    const args = v.args(stream, consumer, shuffle([...acks])) as [number, ...(string | number)[]];
    const res = (await r.evalsha(sha, ...args)) as number[];
    const s = await stats();
    scriptUs += s.get('evalsha')?.usec ?? 0;
    for (const [k, { usec }] of s) if (k !== 'evalsha' && !k.startsWith('config')) nested.set(k, (nested.get(k) ?? 0) + usec);
    calls++;
    if (!(v.ok ? v.ok(res, acks.length) : res.length === acks.length && res.every((x) => x === 1))) bad++;
    pending = [...pending, ...(await read(stream, consumer, N))];
  }
  await r.del(stream);
  if (process.env.ACK_GCSTOP) {
    console.log('lua memory', /used_memory_lua:(\d+)/.exec(await r.info('memory'))?.[1]);
    await r.eval("collectgarbage('restart') collectgarbage('collect') return 1", 0);
  }
  const nestedUs = [...nested.values()].reduce((a, b) => a + b, 0);
  const parts = [...nested].map(([k, u]) => `${k} ${(u / calls).toFixed(1)}`).join(', ');
  console.log(
    `${name.padEnd(22)} µs/call ${(scriptUs / calls).toFixed(1).padStart(6)}  nested ${(nestedUs / calls).toFixed(1).padStart(5)} (${parts})  glue ${((scriptUs - nestedUs) / calls).toFixed(1).padStart(6)}  µs/handle ${(scriptUs / calls / N).toFixed(2)}${bad ? `  WRONG RESULTS ${bad}` : ''}`,
  );
}

const pick = process.env.ACK_VARIANTS?.split(',') ?? Object.keys(variants);
console.log(`n=${N} handles per call, ${PENDING} pending, ${CALLS} calls, ${GAP ? 'every other entry acked' : 'oldest acked'}`);
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 ? [...pick].reverse() : pick) await run(name, variants[name] as Variant);
}
await r.quit();
await server.stop();
