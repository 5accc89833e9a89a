import { afterAll, describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { memoryOptions, sharedMemory } from './memory-options.js';

runConformance({ describe, it, expect, afterAll }, memoryOptions('memory', sharedMemory));
