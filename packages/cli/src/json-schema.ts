import { createRequire } from 'node:module';
import type { JobDefinition } from '@bg/core';
import { CliFailure, EXIT } from './exit-codes.js';

/** A JSON Schema document (plain JSON). */
export type JsonSchema = Record<string, unknown>;

interface StandardJsonSchemaProps {
  readonly vendor?: string;
  readonly jsonSchema?: { readonly input?: (options: { target: string }) => Record<string, unknown> };
}

/**
 * The JSON Schema (draft 2020-12) of the payloads a job accepts (the schema's input side,
 * which is what producers store in queues).
 *
 * Uses Standard JSON Schema v1 (`schema['~standard'].jsonSchema`, offered by zod ≥ 4.2 and
 * others); for older zod 4 schemas it falls back to `z.toJSONSchema` from the zod next to
 * the module. Any other schema library without JSON Schema support fails clearly.
 */
export async function jobJsonSchema(job: JobDefinition, modulePath: string): Promise<JsonSchema> {
  const props = (job.schema as unknown as { '~standard': StandardJsonSchemaProps })['~standard'];
  const input = props.jsonSchema?.input;
  if (typeof input === 'function') {
    try {
      return normalise(input({ target: 'draft-2020-12' }));
    } catch (error) {
      throw new CliFailure(
        EXIT.FAILURE,
        `job "${job.type}": its schema cannot be expressed as JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (props.vendor === 'zod') {
    try {
      const require = createRequire(modulePath);
      const zod = (await import(require.resolve('zod'))) as { toJSONSchema?: (s: unknown, o: unknown) => JsonSchema };
      if (typeof zod.toJSONSchema === 'function') {
        return normalise(zod.toJSONSchema(job.schema, { io: 'input', target: 'draft-2020-12' }));
      }
    } catch {
      // fall through to the clear failure below
    }
  }
  throw new CliFailure(
    EXIT.FAILURE,
    `job "${job.type}": its schema (${props.vendor ?? 'unknown library'}) offers no JSON Schema. ` +
      'bgctl schema needs Standard JSON Schema (`~standard.jsonSchema`, e.g. zod ≥ 4.2) or zod 4 (z.toJSONSchema); ' +
      'wrap other schemas so that they expose `~standard.jsonSchema`.',
  );
}

function normalise(schema: Record<string, unknown>): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

/** JSON text with object keys sorted at every level: equal schemas give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
