/** Input checks of ingest-logs: the session key, gzip streams, the time zone, the JSON-lines field mapping. */
import { InputError } from '../../errors.js';
import type { Store } from '../../db/store.js';
import type { LogsConfig } from '../../config/logs.js';
import type { LogFormat } from './formats.js';
import { PARSED } from './parse.js';

export function checkKey(key: string, formats: LogFormat[]): void {
  if (key === 'ip+ua' || key === 'ip') return;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/.test(key) || formats.some((f) => f !== 'jsonl')) {
    throw InputError.single({
      message: 'unknown session key',
      where: { field: '--key' },
      expected: 'ip+ua, ip, or (JSON-lines logs only) a field name',
      found: key,
    });
  }
}

/** Inflate the whole stream (output discarded) so a truncated or corrupt gzip is caught before anything is loaded. */
export async function checkGzip(file: string): Promise<void> {
  const { createReadStream } = await import('node:fs');
  const { createGunzip } = await import('node:zlib');
  const { pipeline } = await import('node:stream/promises');
  const { Writable } = await import('node:stream');
  try {
    await pipeline(createReadStream(file), createGunzip(), new Writable({ write: (_c, _e, done) => done() }));
  } catch (e) {
    throw InputError.single({
      message: 'cannot read the log: the gzip stream is truncated or corrupt',
      where: { file },
      expected: 'a complete gzip file',
      found: String((e as Error).message ?? e),
    });
  }
}

export async function checkTimeZone(store: Store, tz: string): Promise<void> {
  try {
    await store.one(`SELECT timezone(?, TIMESTAMPTZ '2020-01-01 00:00:00+00') AS t`, [tz]);
  } catch {
    throw InputError.single({ message: 'unknown time zone', where: { field: '--tz' }, expected: 'an IANA time zone such as UTC or Europe/Paris', found: tz });
  }
}

/**
 * JSON lines: every field the sessions need (time, path, the visitor key) and every mapped field
 * must be present in at least one valid record; otherwise the mapping names a field the log does
 * not have, which is a configuration error, not a log of malformed lines.
 */
export async function checkJsonMapping(tx: Store, logs: LogsConfig, files: readonly string[], customKey: boolean): Promise<void> {
  const needed = new Set<string>(['ts', 'path', customKey ? 'key_field' : 'ip', ...Object.keys(logs.fields)]);
  const cols = [...needed];
  const r = (await tx.one<Record<string, number>>(
    `SELECT ${cols.map((c) => `count(${c}) AS ${c}`).join(', ')}, count(*) FILTER (WHERE parsed) AS valid FROM ${PARSED}`,
  ))!;
  if (Number(r['valid']) === 0) return; // every line malformed: reported as such
  const missing = cols.filter((c) => Number(r[c]) === 0);
  if (!missing.length) return;
  throw new InputError(
    'the JSON-lines log has no value for a field the sessions need',
    missing.map((c) => {
      const field = c === 'key_field' ? logs.key : c;
      const path = c === 'key_field' ? (logs.fields[logs.key as keyof typeof logs.fields] ?? logs.key) : (logs.fields[c as keyof typeof logs.fields] ?? c);
      return {
        severity: 'error' as const,
        message: `no record has "${path}"`,
        where: { file: files.join(', '), field: c === 'key_field' ? '--key' : `logs.fields.${field}` },
        expected: `the log's name for ${field} (set logs.fields.${field} in rulegen.yaml)`,
        found: `"${path}" in no record`,
      };
    }),
  );
}
