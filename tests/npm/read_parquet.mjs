// Reads a Parquet file with hyparquet (an independent pure-JS reader) and
// prints JSON for sluice's tests to compare with what they wrote.
//   node read_parquet.mjs FILE          one JSON object per row
//   node read_parquet.mjs --meta FILE   the footer as hyparquet parsed it
// Values JSON cannot hold are spelled out: int64 as decimal strings,
// NaN/Infinity/-Infinity/-0 as strings, timestamps as {"micros": "N"}.
import { readFileSync } from 'node:fs';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';

const args = process.argv.slice(2);
const meta = args[0] === '--meta';
const path = meta ? args[1] : args[0];
if (!path) {
  console.error('usage: node read_parquet.mjs [--meta] FILE.parquet');
  process.exit(2);
}
const bytes = readFileSync(path);
const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);

function cell(v) {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return 'Infinity';
    if (v === -Infinity) return '-Infinity';
    if (Object.is(v, -0)) return '-0';
    return v;
  }
  if (v instanceof Uint8Array) return Array.from(v);
  return v;
}

function replacer(_key, v) {
  return cell(v);
}

if (meta) {
  console.log(JSON.stringify(parquetMetadata(file), replacer));
} else {
  const parsers = { timestampFromMicroseconds: (us) => ({ micros: us.toString() }) };
  const rows = await parquetReadObjects({ file, parsers });
  for (const row of rows) console.log(JSON.stringify(row, replacer));
}
