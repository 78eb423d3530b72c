/**
 * Arrow IPC files through apache-arrow: DuckDB's arrow extension is not available offline.
 * Record batches are streamed from disk and appended batch by batch, so a large file is never
 * held whole in memory.
 */
import { createReadStream } from 'node:fs';
import { RecordBatchReader, Type, type DataType, type Field, type RecordBatch } from 'apache-arrow';
import { InputError } from '../errors.js';
import { quoteIdent, type Param, type Store } from '../db/store.js';

function duckType(t: DataType, file: string, name: string): string {
  switch (t.typeId) {
    case Type.Float:
    case Type.Decimal:
      return 'DOUBLE';
    case Type.Int:
      return 'BIGINT';
    case Type.Bool:
      return 'BOOLEAN';
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Dictionary:
      return 'VARCHAR';
    case Type.Timestamp:
    case Type.Date:
      return 'TIMESTAMP';
    case Type.Null:
      return 'VARCHAR';
    default:
      throw InputError.single({
        message: `unsupported Arrow type for column "${name}"`,
        where: { file, field: name },
        expected: 'float, int, bool, utf8, dictionary, timestamp or date',
        found: String(t),
      });
  }
}

function toParam(v: unknown, type: string): Param {
  if (v === null || v === undefined) return null;
  if (type === 'TIMESTAMP') {
    const ms = typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : Number(v);
    return new Date(ms);
  }
  if (type === 'DOUBLE') return Number(v);
  if (type === 'VARCHAR') return String(v);
  return v as Param;
}

/** Create `table` from the Arrow file's schema and append every batch; returns the row count. */
export async function loadArrowInto(store: Store, file: string, table: string): Promise<number> {
  let reader: RecordBatchReader;
  try {
    reader = await RecordBatchReader.from(createReadStream(file));
    await reader.open();
  } catch (e) {
    throw InputError.single({ message: `not a readable Arrow IPC file: ${(e as Error).message}`, where: { file }, expected: 'an Arrow IPC file or stream' });
  }
  const fields: Field[] = reader.schema.fields;
  const types = fields.map((f) => duckType(f.type, file, f.name));
  await store.run(`CREATE TABLE ${quoteIdent(table)} (${fields.map((f, i) => `${quoteIdent(f.name)} ${types[i]}`).join(', ')})`);
  let rows = 0;
  for await (const batch of reader as AsyncIterable<RecordBatch>) {
    const columns = fields.map((_, i) => {
      const vec = batch.getChildAt(i);
      const out: Param[] = new Array(batch.numRows);
      for (let r = 0; r < batch.numRows; r++) out[r] = toParam(vec?.get(r), types[i]!);
      return out;
    });
    await store.appendColumns(table, columns, batch.numRows);
    rows += batch.numRows;
  }
  return rows;
}
