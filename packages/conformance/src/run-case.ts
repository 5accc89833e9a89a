import type { Adapter } from '@bg/core';
import type { CaseContext, ConformanceCase } from './case.js';
import { uniqueQueueName } from './helpers.js';
import type { ConformanceOptions, ExpectLike } from './options.js';
import { resolveTiming } from './timing.js';

/** Why a case is skipped for these options, or undefined when it runs. */
export function skipReason(testCase: ConformanceCase, options: ConformanceOptions): string | undefined {
  const excluded = options.exclude?.[testCase.id] ?? options.exclude?.[testCase.group];
  if (excluded !== undefined) return `excluded: ${excluded}`;
  return testCase.skip?.(options);
}

/**
 * Runs one case against a fresh adapter and queue, then closes everything it opened.
 * Rejects when the case fails. Exported so adapter authors (and the suite's own
 * self-tests) can run a single case by id.
 */
export async function runCase(testCase: ConformanceCase, options: ConformanceOptions, expect: ExpectLike): Promise<void> {
  const timing = resolveTiming(options.timing);
  const prefix = options.queuePrefix ?? 'conf';
  const cleanups: Array<() => Promise<void> | void> = [];
  const adapters: Adapter[] = [];
  const newAdapter = async (): Promise<Adapter> => {
    const adapter = await options.createAdapter();
    adapters.push(adapter);
    return adapter;
  };
  try {
    const adapter = await newAdapter();
    const newQueue = async (): Promise<string> => {
      const name = uniqueQueueName(prefix, testCase.id);
      await adapter.ensureQueue(name);
      return name;
    };
    const queue = await newQueue();
    const ctx: CaseContext = {
      adapter,
      queue,
      inspector: options.inspector(adapter),
      timing,
      expect,
      options,
      newQueue,
      newAdapter,
      defer: (fn) => {
        cleanups.push(fn);
      },
    };
    await testCase.run(ctx);
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // cleanup must not hide the case's own outcome
      }
    }
    for (const adapter of adapters) {
      try {
        await adapter.close();
      } catch {
        // idem
      }
    }
  }
}
