// Reads nested Parquet files with DuckDB (@duckdb/node-api) and arrow-rs
// (parquet-wasm, through apache-arrow) and prints, per file, one JSON line:
//   {"file", "duckdb": [row JSON text...], "arrow": [row JSON text...],
//    "schema": [DuckDB parquet_schema() rows]}
// Rows are objects; structs objects with every field; lists arrays; maps
// objects {key: value}; 64-bit integers as numbers (the test keeps them
// below 2^53). sluice's nested writer test compares them with what it wrote.
//   node read_nested.mjs FILE...
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { readParquet } from 'parquet-wasm';
import * as arrow from 'apache-arrow';

const big = (k, v) => (typeof v === 'bigint' ? Number(v) : v);

// apache-arrow rows: StructRow/MapRow/Vector know toJSON; plain values pass.
function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof arrow.Vector) return Array.from(v, plain);
  if (v instanceof Uint8Array) return Array.from(v);
  if (typeof v === 'object') {
    if (v[Symbol.iterator] && typeof v.toJSON === 'function' && !(v instanceof Array)) {
      const o = v.toJSON();
      const out = {};
      for (const [k, x] of Object.entries(o)) out[k] = plain(x);
      return out;
    }
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
for (const file of process.argv.slice(2)) {
  const res = { file };
  const r = await con.runAndReadAll(
    `SELECT CAST(to_json(t) AS VARCHAR) AS j FROM read_parquet('${file}') AS t`);
  res.duckdb = r.getRows().map((row) => row[0]);
  const schema = await con.runAndReadAll(
    `SELECT name, type, repetition_type, num_children, converted_type, logical_type
       FROM parquet_schema('${file}')`);
  res.schema = schema.getRowObjectsJson();
  const table = arrow.tableFromIPC(readParquet(new Uint8Array(readFileSync(file))).intoIPCStream());
  const rows = [];
  for (let i = 0; i < table.numRows; i++) {
    const row = table.get(i);
    const o = {};
    for (const f of table.schema.fields) o[f.name] = plain(row[f.name]);
    rows.push(JSON.stringify(o, big));
  }
  res.arrow = rows;
  console.log(JSON.stringify(res));
}
