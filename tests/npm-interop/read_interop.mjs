// Reads Parquet files with DuckDB (@duckdb/node-api) and arrow-rs
// (parquet-wasm, through apache-arrow's IPC reader) and prints, per file, one
// JSON line with every cell in one canonical form, so sluice's interop test
// can compare both readers with what it wrote:
//   null; booleans; int32 and date (days) as numbers; int64, timestamps
//   (microseconds) and decimals (unscaled) as decimal strings; floats as
//   numbers or "NaN", "Infinity", "-Infinity", "-0"; strings as strings;
//   binaries as lowercase hex.
// Also DuckDB's parquet_metadata() and parquet_schema() rows as it prints them.
//   node read_interop.mjs SPEC.json   SPEC: {"columns":[{"name","kind"}],"files":[...]}
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { readParquet } from 'parquet-wasm';
import * as arrow from 'apache-arrow';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const cols = spec.columns;

function num(v) {
  if (v === null || v === undefined) return null;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}

function hex(u8) {
  return Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
}

// "-123.45" -> "-12345" (the unscaled value; the scale is in the schema)
function unscaled(text) {
  if (text === null || text === undefined) return null;
  const neg = text.startsWith('-');
  let digits = text.replace(/^[-+]/, '').replace('.', '').replace(/^0+(?=\d)/, '');
  if (digits === '0') return '0';
  return (neg ? '-' : '') + digits;
}

const q = (name) => '"' + name.replace(/"/g, '""') + '"';

function duckExpr(c) {
  const n = q(c.name);
  switch (c.kind) {
    case 'i64': case 'dec': return `CAST(${n} AS VARCHAR)`;
    case 'bin': return `lower(hex(${n}))`;
    case 'date': return `CAST(${n} - DATE '1970-01-01' AS INTEGER)`;
    case 'ts': case 'ntz': return `CAST(epoch_us(${n}) AS VARCHAR)`;
    default: return n;
  }
}

function duckCell(c, v) {
  if (v === null || v === undefined) return null;
  switch (c.kind) {
    case 'f32': case 'f64': return num(v);
    case 'dec': return unscaled(v);
    case 'i32': case 'date': return Number(v);
    default: return v;
  }
}

async function readDuck(con, file) {
  const sel = cols.map((c) => `${duckExpr(c)} AS ${q(c.name)}`).join(', ');
  const r = await con.runAndReadAll(`SELECT ${sel} FROM read_parquet('${file}')`);
  return r.getRows().map((row) => row.map((v, i) => duckCell(cols[i], v)));
}

// Reinterprets a column's buffers as another type (exact integers for
// timestamps and dates instead of lossy milliseconds).
function asType(vec, type) {
  return new arrow.Vector(vec.data.map((d) => d.clone(type)));
}

function readArrow(file) {
  const bytes = new Uint8Array(readFileSync(file));
  const table = arrow.tableFromIPC(readParquet(bytes).intoIPCStream());
  const out = [];
  const getters = cols.map((c) => {
    let vec = table.getChild(c.name);
    switch (c.kind) {
      case 'ts': case 'ntz': vec = asType(vec, new arrow.Int64()); return (i) => String(vec.get(i));
      case 'date': vec = asType(vec, new arrow.Int32()); return (i) => vec.get(i);
      case 'i64': return (i) => String(vec.get(i));
      case 'f32': case 'f64': return (i) => num(vec.get(i));
      case 'bin': return (i) => hex(vec.get(i));
      case 'dec': return (i) => vec.get(i).toString();
      default: return (i) => vec.get(i);
    }
  });
  const valid = cols.map((c) => table.getChild(c.name));
  for (let i = 0; i < table.numRows; i++)
    out.push(getters.map((g, k) => (valid[k].isValid(i) ? g(i) : null)));
  const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
  return { rows: out, types };
}

const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
for (const file of spec.files) {
  const res = { file };
  res.duckdb = await readDuck(con, file);
  const meta = await con.runAndReadAll(
    `SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, type, num_values,
            stats_min_value, stats_max_value, stats_null_count, encodings, compression,
            dictionary_page_offset, data_page_offset, total_compressed_size,
            total_uncompressed_size FROM parquet_metadata('${file}')
     ORDER BY row_group_id, column_id`);
  res.meta = meta.getRowObjectsJson();
  const schema = await con.runAndReadAll(
    `SELECT name, type, type_length, repetition_type, converted_type, scale, precision,
            logical_type FROM parquet_schema('${file}')`);
  res.schema = schema.getRowObjectsJson();
  const a = readArrow(file);
  res.arrow = a.rows;
  res.arrow_types = a.types;
  console.log(JSON.stringify(res));
}
