import type { JobDefinition } from '@bg/core';
import { CliFailure, EXIT } from './exit-codes.js';
import { canonicalJson, type JsonSchema } from './json-schema.js';
import { quoted } from './printable.js';

/** Format marker of the snapshot file. */
export const SNAPSHOT_FORMAT = 1 as const;

/**
 * The committed schema history (`bg-schema.json`): the JSON Schema of every released
 * version of every job. Append-only: a released version's schema never changes.
 */
export interface SchemaSnapshot {
  readonly $comment?: string;
  readonly format: typeof SNAPSHOT_FORMAT;
  /** Job type → payload version (as a string key) → JSON Schema of that version's payload. */
  readonly jobs: Record<string, { readonly versions: Record<string, JsonSchema> }>;
}

/** The current state of one job, from its definition. */
export interface CurrentJob {
  readonly type: string;
  readonly version: number;
  readonly schema: JsonSchema;
  /** Versions that have a migration to the next one. */
  readonly migrations: readonly number[];
}

/** One finding of {@link checkSnapshot}. */
export interface SchemaFinding {
  readonly job: string;
  readonly version?: number;
  readonly kind: 'changed' | 'missing-migration' | 'not-snapshotted' | 'version-regressed' | 'removed';
  /** Problems fail `bgctl schema check`; warnings are printed only. */
  readonly severity: 'problem' | 'warning';
  readonly message: string;
}

const COMMENT =
  'Written by `bgctl schema snapshot`: the payload JSON Schema of every released job version. Commit it; `bgctl schema check` guards it in CI.';

/** An empty snapshot. */
export function emptySnapshot(): SchemaSnapshot {
  return { $comment: COMMENT, format: SNAPSHOT_FORMAT, jobs: {} };
}

/** Parses the text of a snapshot file, failing clearly on anything else. */
export function parseSnapshot(text: string, file: string): SchemaSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CliFailure(EXIT.FAILURE, `${file} is not JSON: ${String(error)}`);
  }
  const s = raw as Partial<SchemaSnapshot>;
  if (typeof raw !== 'object' || raw === null || s.format !== SNAPSHOT_FORMAT || typeof s.jobs !== 'object' || s.jobs === null) {
    throw new CliFailure(EXIT.FAILURE, `${file} is not a bg schema snapshot (format ${SNAPSHOT_FORMAT})`);
  }
  if (Array.isArray(s.jobs)) {
    throw new CliFailure(EXIT.FAILURE, `${file} is not a bg schema snapshot (format ${SNAPSHOT_FORMAT}): "jobs" is a list`);
  }
  // Every entry, before anything reads it: a hand-edited or merged file fails here, naming the
  // job, not as a JavaScript error half-way (or, worse, as a snapshot quietly rewritten).
  const bad = (what: string): CliFailure =>
    new CliFailure(
      EXIT.FAILURE,
      `${file} is not a valid bg schema snapshot: ${what} (expected { "versions": { "1": { …JSON Schema… } } })`,
    );
  for (const [type, entry] of Object.entries(s.jobs as Record<string, unknown>)) {
    if (!isPlainObject(entry) || !isPlainObject(entry.versions)) {
      throw bad(
        `job ${quoted(type)} is ${describe(entry)}${isPlainObject(entry) ? ` with "versions" ${describe(entry.versions)}` : ''}`,
      );
    }
    for (const [version, schema] of Object.entries(entry.versions)) {
      if (!/^[1-9][0-9]{0,9}$/.test(version)) {
        throw bad(`job ${quoted(type)} has a version ${quoted(version)} that is not a positive whole number`);
      }
      if (!isPlainObject(schema)) throw bad(`job ${quoted(type)} v${version} is ${describe(schema)}, not a JSON Schema object`);
    }
  }
  return s as SchemaSnapshot;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a JSON value is, for an error message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value === undefined) return 'missing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The {@link CurrentJob} of a definition and its JSON Schema. */
export function currentJob(job: JobDefinition, schema: JsonSchema): CurrentJob {
  return { type: job.type, version: job.version, schema, migrations: [...job.migrations.keys()].sort((a, b) => a - b) };
}

/**
 * Compares job definitions with the snapshot. Problems: a released version whose schema
 * changed, a version not in the snapshot yet, a version lower than one already released,
 * a missing migration between consecutive versions. Warning: a job type in the snapshot
 * that the module no longer defines.
 */
export function checkSnapshot(snapshot: SchemaSnapshot, current: readonly CurrentJob[]): SchemaFinding[] {
  const findings: SchemaFinding[] = [];
  const defined = new Set(current.map((j) => j.type));
  for (const job of current) {
    const versions = snapshot.jobs[job.type]?.versions ?? {};
    const released = Object.keys(versions)
      .map(Number)
      .filter((v) => Number.isInteger(v));
    const latest = released.length > 0 ? Math.max(...released) : 0;
    const stored = versions[String(job.version)];
    if (stored !== undefined) {
      if (canonicalJson(stored) !== canonicalJson(job.schema)) {
        findings.push({
          job: job.type,
          version: job.version,
          kind: 'changed',
          severity: 'problem',
          message: `"${job.type}" v${job.version} is released and its schema changed: queued v${job.version} jobs may no longer validate. Keep v${job.version} as it was and add version ${latest + 1} with migrate[${latest}].`,
        });
      }
    } else {
      findings.push({
        job: job.type,
        version: job.version,
        kind: 'not-snapshotted',
        severity: 'problem',
        message: `"${job.type}" v${job.version} is not in the snapshot: run \`bgctl schema snapshot\` and commit the file.`,
      });
    }
    if (latest > job.version) {
      findings.push({
        job: job.type,
        version: job.version,
        kind: 'version-regressed',
        severity: 'problem',
        message: `"${job.type}" is defined at v${job.version} but v${latest} was released: queued v${latest} jobs would be dead-lettered as unknown-version.`,
      });
    }
    for (let v = 1; v < job.version; v++) {
      if (!job.migrations.includes(v)) {
        findings.push({
          job: job.type,
          version: v + 1,
          kind: 'missing-migration',
          severity: 'problem',
          message: `"${job.type}" v${v + 1} has no migration from v${v} (migrate[${v}]): queued v${v} jobs could not be upgraded.`,
        });
      }
    }
  }
  for (const type of Object.keys(snapshot.jobs)) {
    if (!defined.has(type)) {
      findings.push({
        job: type,
        kind: 'removed',
        severity: 'warning',
        message: `"${type}" is in the snapshot but no longer defined: queued jobs of this type would be dead-lettered as unknown-type.`,
      });
    }
  }
  return findings;
}

/** What {@link updateSnapshot} produced. */
export interface SnapshotUpdate {
  readonly snapshot: SchemaSnapshot;
  /** `type@version` entries added. */
  readonly added: readonly string[];
  /** `type@version` entries whose released schema was overwritten (only with `force`). */
  readonly overwritten: readonly string[];
}

/**
 * Appends the current version of every job to the snapshot. A released version whose
 * schema differs is refused (exit code 3) unless `force` rewrites it.
 */
export function updateSnapshot(snapshot: SchemaSnapshot, current: readonly CurrentJob[], force: boolean): SnapshotUpdate {
  const jobs: Record<string, { versions: Record<string, JsonSchema> }> = {};
  for (const [type, entry] of Object.entries(snapshot.jobs)) jobs[type] = { versions: { ...entry.versions } };
  const added: string[] = [];
  const overwritten: string[] = [];
  const refused: string[] = [];
  for (const job of current) {
    const entry = jobs[job.type] ?? { versions: {} };
    jobs[job.type] = entry;
    const key = String(job.version);
    const stored = entry.versions[key];
    if (stored === undefined) {
      entry.versions[key] = job.schema;
      added.push(`${job.type}@${job.version}`);
    } else if (canonicalJson(stored) !== canonicalJson(job.schema)) {
      if (!force) refused.push(`${job.type}@${job.version}`);
      else {
        entry.versions[key] = job.schema;
        overwritten.push(`${job.type}@${job.version}`);
      }
    }
  }
  if (refused.length > 0) {
    throw new CliFailure(
      EXIT.CHECK_FAILED,
      `released schema changed for ${refused.join(', ')}: bump the job version and add a migration (or pass --force to rewrite history)`,
    );
  }
  const sorted: Record<string, { versions: Record<string, JsonSchema> }> = {};
  for (const type of Object.keys(jobs).sort()) {
    const versions = jobs[type]?.versions ?? {};
    sorted[type] = {
      versions: Object.fromEntries(
        Object.keys(versions)
          .sort((a, b) => Number(a) - Number(b))
          .map((v) => [v, versions[v] as JsonSchema]),
      ),
    };
  }
  return { snapshot: { $comment: COMMENT, format: SNAPSHOT_FORMAT, jobs: sorted }, added, overwritten };
}
