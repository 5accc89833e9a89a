// Loaded in the crash case's child process: the memory store lives in the parent.
import { memoryAdapter } from '@bg/memory';
import { ipcAdapter } from '../src/index.js';

export default () => ipcAdapter(memoryAdapter({ capabilities: { maxPayloadBytes: 64 * 1024 } }).capabilities);
