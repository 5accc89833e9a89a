import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Adapter, DeadLetterReason } from '@bg/core';
import { encodeEnvelope, uuidv7 } from '@bg/core';
import type { Dashboard } from '../src/index.js';

/** Stores `count` dead letters of `type` on `queue` the way the worker does (send, lease, dead-letter, ack). */
export async function seedDeadLetters(
  adapter: Adapter,
  queue: string,
  count: number,
  options: { type: string; reason: DeadLetterReason; message: string; payload?: unknown },
): Promise<string[]> {
  await adapter.ensureQueue(queue);
  const ids: string[] = [];
  const batch = Math.min(adapter.capabilities.maxBatchSize, 100);
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const messages = Array.from({ length: n }, () => {
      const id = uuidv7();
      return {
        id,
        body: encodeEnvelope({
          bg: 1,
          id,
          type: options.type,
          v: 1,
          payload: options.payload ?? { n: done },
          createdAt: new Date().toISOString(),
        } as never),
        attributes: { 'bg-type': options.type },
      };
    });
    await adapter.send(queue, messages);
    let left = n;
    while (left > 0) {
      const received = await adapter.receive(queue, { max: Math.min(left, batch), leaseMs: 30_000, waitMs: 100 });
      for (const message of received) {
        await adapter.deadLetter(queue, message, {
          reason: options.reason,
          error: { name: 'Error', message: options.message },
          attempts: message.deliveryCount,
          deadLetteredAt: Date.now(),
        });
        await adapter.ack(queue, message.handle);
        ids.push(message.id);
      }
      left -= received.length;
    }
  }
  return ids;
}

/** Serves a dashboard on a free loopback port. */
export async function serve(dashboard: Dashboard): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const server = createServer(dashboard);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dashboard.close();
    },
  };
}

/** The hidden inputs of a page's forms (the CSRF and one-time values, a confirmation's fields), as a browser sends them. */
export function hiddenFields(page: string): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    const value = (m[2] ?? '')
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&');
    const name = m[1] ?? '';
    fields[name] = [...(fields[name] ?? []), value];
  }
  return fields;
}

/** A tiny cookie-keeping client for the handler tests. */
export class Browserless {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  /** GETs a page and returns its text and the CSRF value of its first form. */
  async page(path: string): Promise<{ status: number; text: string; csrf: string | undefined }> {
    const res = await this.request(path);
    const text = await res.text();
    return { status: res.status, text, csrf: /name="_csrf" value="([^"]+)"/.exec(text)?.[1] };
  }

  /** POSTs a form. */
  post(path: string, fields: Record<string, string | string[]>): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
    return this.request(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
}
