// Loaded in the competing consumer processes of the leak variants: the IPC adapter of
// memory-child.ts with the leak named in BG_R3_LEAK.
import { memoryAdapter } from '@bg/memory';
import { ipcAdapter } from '../src/index.js';
import { type LeakKind, leaking } from './round-three-leaks.js';

export default () =>
  leaking(
    ipcAdapter(memoryAdapter({ capabilities: { maxPayloadBytes: 64 * 1024 } }).capabilities),
    process.env.BG_R3_LEAK as LeakKind,
  );
