import type { Adapter, Capabilities } from '@bg/core';
import { ipcAdapter } from '../../src/index.js';

/**
 * The worker-crash child's adapter: every call goes over IPC to the parent's adapter under
 * audit (a broken variant or its healthy twin), which owns the memory store.
 */
export default function auditChildAdapter(_queue: string): Adapter {
  const raw = process.env['BG_AUDIT_CAPABILITIES'];
  if (!raw) throw new Error('audit child: BG_AUDIT_CAPABILITIES is not set');
  return ipcAdapter(JSON.parse(raw) as Capabilities);
}
