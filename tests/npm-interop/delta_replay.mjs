// An independent replay of a local Delta table, sharing no code with sluice:
// the log is reconciled from the newest checkpoint Parquet (read by DuckDB's
// read_parquet) plus the JSON commits after it (JSON.parse), cross-checked
// against a replay of every JSON commit from version 0, and the live data
// files are then read by DuckDB and by arrow-rs (parquet-wasm through
// apache-arrow). Prints one JSON object:
//   {"latest_version", "checkpoint_version", "last_checkpoint",
//    "checkpoint_files": [versions], "json_commits_replayed",
//    "checkpoint_adds", "columns": [names], "live_files": [add.path, sorted],
//    "duckdb": [row...], "arrow": [row...]}
// A row is an array in schema order, each cell in one canonical form by Delta
// type: null; long/int/short/byte, timestamps (microseconds) and decimals
// ("-12.30", every digit of the scale) as strings; date "YYYY-MM-DD"; double
// and float as JSON numbers; boolean; string. Partition columns come from
// add.partitionValues (Delta's rule), never from the directory names.
// Exits 1 with a message on stderr when the two replays disagree.
//   node delta_replay.mjs TABLE_DIR
import { readdirSync, readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { readParquet } from 'parquet-wasm';
import * as arrow from 'apache-arrow';

const table = process.argv[2];
const logDir = `${table}/_delta_log`;

function die(msg) {
  process.stderr.write(`delta_replay: ${msg}\n`);
  process.exit(1);
}

const sqlStr = (s) => "'" + s.replace(/'/g, "''") + "'";
const ident = (s) => '"' + s.replace(/"/g, '""') + '"';
const pad20 = (v) => String(v).padStart(20, '0');

// ---- the log --------------------------------------------------------------

function listLog() {
  const commits = [];
  const checkpoints = [];
  for (const name of readdirSync(logDir)) {
    let m = /^(\d{20})\.json$/.exec(name);
    if (m) commits.push(Number(m[1]));
    m = /^(\d{20})\.checkpoint\.parquet$/.exec(name);
    if (m) checkpoints.push(Number(m[1]));
  }
  commits.sort((a, b) => a - b);
  checkpoints.sort((a, b) => a - b);
  if (!commits.length) die('no JSON commits');
  commits.forEach((v, i) => {
    if (v !== i) die(`JSON commits are not 0..N: version ${i} is missing`);
  });
  return { latest: commits[commits.length - 1], checkpoints };
}

function commitActions(v) {
  const text = readFileSync(`${logDir}/${pad20(v)}.json`, 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

// The live set keyed by path plus deletion vector id, as the protocol says.
const fileKey = (a) =>
  a.path + '|' + (a.deletionVector ? JSON.stringify(a.deletionVector) : '');

function newState() {
  return { files: new Map(), metaData: null, protocol: null };
}

function apply(state, action) {
  if (action.add) state.files.set(fileKey(action.add), action.add);
  else if (action.remove) state.files.delete(fileKey(action.remove));
  else if (action.metaData) state.metaData = action.metaData;
  else if (action.protocol) state.protocol = action.protocol;
}

function replayJson(state, from, to) {
  for (let v = from; v <= to; v++) for (const a of commitActions(v)) apply(state, a);
  return state;
}

async function rows(con, sql) {
  const r = await con.runAndReadAll(sql);
  return r.getRowObjectsJson();
}

// The checkpoint's actions through DuckDB; maps and nested values come back
// as JSON text so nothing of sluice's interpretation is involved.
async function replayCheckpoint(con, version) {
  const file = sqlStr(`${logDir}/${pad20(version)}.checkpoint.parquet`);
  const state = newState();
  const adds = await rows(
    con,
    `SELECT add.path AS path, to_json(add.partitionValues)::VARCHAR AS pv,
            add.size AS size, to_json(add.deletionVector)::VARCHAR AS dv
       FROM read_parquet(${file}) WHERE add IS NOT NULL`);
  for (const a of adds) {
    const add = { path: a.path, partitionValues: JSON.parse(a.pv), size: Number(a.size) };
    const dv = a.dv === null ? null : JSON.parse(a.dv);
    if (dv) add.deletionVector = dv;
    state.files.set(fileKey(add), add);
  }
  // A checkpoint's removes are tombstones: they never name a live file.
  const removes = await rows(
    con, `SELECT remove.path AS path FROM read_parquet(${file}) WHERE remove IS NOT NULL`);
  for (const r of removes)
    if ([...state.files.values()].some((f) => f.path === r.path))
      die(`checkpoint ${version} both adds and removes ${r.path}`);
  const md = await rows(
    con,
    `SELECT metaData.id AS id, metaData.schemaString AS schema,
            to_json(metaData.partitionColumns)::VARCHAR AS parts,
            to_json(metaData.configuration)::VARCHAR AS conf
       FROM read_parquet(${file}) WHERE metaData IS NOT NULL`);
  if (md.length !== 1) die(`checkpoint ${version} has ${md.length} metaData rows`);
  state.metaData = {
    id: md[0].id,
    schemaString: md[0].schema,
    partitionColumns: JSON.parse(md[0].parts),
    configuration: md[0].conf === null ? {} : JSON.parse(md[0].conf),
  };
  const pr = await rows(
    con,
    `SELECT protocol.minReaderVersion AS r, protocol.minWriterVersion AS w
       FROM read_parquet(${file}) WHERE protocol IS NOT NULL`);
  if (pr.length !== 1) die(`checkpoint ${version} has ${pr.length} protocol rows`);
  state.protocol = { minReaderVersion: Number(pr[0].r), minWriterVersion: Number(pr[0].w) };
  return { state, nadds: adds.length };
}

// What both replays must agree on: the live files with their partition
// values and sizes, the schema, partition columns and protocol versions.
const sortedKeys = (o) =>
  o === null || o === undefined ? null
    : Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));

function digest(state) {
  const files = [...state.files.values()]
    .map((f) => JSON.stringify([f.path, sortedKeys(f.partitionValues), Number(f.size),
                                sortedKeys(f.deletionVector)]))
    .sort();
  const md = state.metaData;
  const meta = JSON.stringify({
    id: md.id,
    schema: md.schemaString,
    parts: md.partitionColumns,
    conf: sortedKeys(md.configuration || {}),
    protocol: [state.protocol.minReaderVersion, state.protocol.minWriterVersion],
  });
  return { files, meta };
}

// Names the first difference rather than printing both states whole.
function sameOrDie(fromCp, jsonOnly, what) {
  const a = digest(fromCp);
  const b = digest(jsonOnly);
  if (a.meta !== b.meta) die(`${what}: metaData/protocol differ:\n checkpoint: ${a.meta}\n json only:  ${b.meta}`);
  const onlyA = a.files.filter((f) => !b.files.includes(f));
  const onlyB = b.files.filter((f) => !a.files.includes(f));
  if (onlyA.length || onlyB.length)
    die(`${what}: ${a.files.length} live files from the checkpoint, ${b.files.length} from ` +
        `JSON alone; ${onlyA.length} only in the first (${onlyA[0] || '-'}), ` +
        `${onlyB.length} only in the second (${onlyB[0] || '-'})`);
}

// ---- the data -------------------------------------------------------------

function fmtDate(days) {
  return new Date(Number(days) * 86400000).toISOString().slice(0, 10);
}

// Unscaled integer text and a scale to "-12.30".
function fmtDec(unscaled, scale) {
  let neg = unscaled.startsWith('-');
  let d = unscaled.replace(/^[-+]/, '').replace(/^0+(?=\d)/, '');
  if (scale > 0) {
    d = d.padStart(scale + 1, '0');
    d = d.slice(0, d.length - scale) + '.' + d.slice(d.length - scale);
  }
  if (/^[0.]*$/.test(d)) neg = false;
  return (neg ? '-' : '') + d;
}

// DuckDB prints a decimal with every digit of its scale: drop the point.
function duckUnscaled(text) {
  return text.replace('.', '');
}

function kindOf(type) {
  if (typeof type !== 'string') die(`unsupported column type ${JSON.stringify(type)}`);
  const m = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (m) return { kind: 'dec', scale: Number(m[2]) };
  const k = {
    long: 'int', integer: 'int', short: 'int', byte: 'int',
    string: 'str', double: 'num', float: 'num', boolean: 'bool',
    date: 'date', timestamp: 'ts', timestamp_ntz: 'ts',
  }[type];
  if (!k) die(`unsupported column type ${type}`);
  return { kind: k };
}

// A partition value (Delta writes them as strings) in the canonical form.
function partCell(col, text) {
  if (text === null || text === undefined) return null;
  switch (col.kind) {
    case 'num': return Number(text);
    case 'bool': return text === 'true';
    case 'dec': return fmtDec(text.replace('.', ''), col.scale);
    case 'ts': die(`timestamp partition column ${col.name} is not supported here`);
    default: return text;
  }
}

function duckExpr(col) {
  const n = ident(col.name);
  switch (col.kind) {
    case 'int': case 'dec': return `CAST(${n} AS VARCHAR)`;
    case 'date': return `CAST(${n} - DATE '1970-01-01' AS INTEGER)`;
    case 'ts': return `CAST(epoch_us(${n}) AS VARCHAR)`;
    default: return n;
  }
}

function duckCell(col, v) {
  if (v === null || v === undefined) return null;
  switch (col.kind) {
    case 'date': return fmtDate(v);
    case 'dec': return fmtDec(duckUnscaled(v), col.scale);
    case 'num': return Number(v);
    default: return v;
  }
}

async function readDuck(con, path, dataCols) {
  const sel = dataCols.map((c) => `${duckExpr(c)} AS ${ident(c.name)}`).join(', ');
  const r = await con.runAndReadAll(
    `SELECT ${sel} FROM read_parquet(${sqlStr(path)}, hive_partitioning = false)`);
  return r.getRows().map((row) => row.map((v, i) => duckCell(dataCols[i], v)));
}

// Reinterprets a column's buffers as another type (exact integers for
// timestamps and dates instead of lossy milliseconds).
function asType(vec, type) {
  return new arrow.Vector(vec.data.map((d) => d.clone(type)));
}

function readArrow(path, dataCols) {
  const t = arrow.tableFromIPC(readParquet(new Uint8Array(readFileSync(path))).intoIPCStream());
  const getters = dataCols.map((c) => {
    let vec = t.getChild(c.name);
    if (!vec) die(`arrow-rs: ${path} has no column ${c.name}`);
    switch (c.kind) {
      case 'ts': vec = asType(vec, new arrow.Int64()); return (i) => String(vec.get(i));
      case 'date': vec = asType(vec, new arrow.Int32()); return (i) => fmtDate(vec.get(i));
      case 'int': return (i) => String(vec.get(i));
      case 'num': return (i) => Number(vec.get(i));
      case 'dec': return (i) => fmtDec(vec.get(i).toString(), c.scale);
      default: return (i) => vec.get(i);
    }
  });
  const valid = dataCols.map((c) => t.getChild(c.name));
  const out = [];
  for (let i = 0; i < t.numRows; i++)
    out.push(getters.map((g, k) => (valid[k].isValid(i) ? g(i) : null)));
  return out;
}

// One file's rows in schema order: data cells from the reader, partition
// cells from the add action.
function assemble(cols, dataCols, add, dataRows) {
  return dataRows.map((cells) => {
    const byName = new Map(dataCols.map((c, i) => [c.name, cells[i]]));
    return cols.map((c) =>
      c.partition ? partCell(c, add.partitionValues[c.name]) : byName.get(c.name));
  });
}

// ---- main -----------------------------------------------------------------

const { latest, checkpoints } = listLog();
const lastCp = JSON.parse(readFileSync(`${logDir}/_last_checkpoint`, 'utf8'));
const usable = checkpoints.filter((v) => v <= latest);
if (!usable.length) die('no checkpoint to start from');
const cpVersion = usable[usable.length - 1];
if (Number(lastCp.version) !== cpVersion)
  die(`_last_checkpoint says ${lastCp.version}, the newest checkpoint is ${cpVersion}`);

const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();

const { state: fromCp, nadds } = await replayCheckpoint(con, cpVersion);
// The checkpoint must hold exactly the state at its version ...
sameOrDie(fromCp, replayJson(newState(), 0, cpVersion), `states at checkpoint ${cpVersion}`);
// ... and with the commits after it, the state at the latest version.
replayJson(fromCp, cpVersion + 1, latest);
const jsonOnly = replayJson(newState(), 0, latest);
sameOrDie(fromCp, jsonOnly, `states at version ${latest}`);

const partSet = new Set(fromCp.metaData.partitionColumns);
const schema = JSON.parse(fromCp.metaData.schemaString);
const cols = schema.fields.map((f) => ({ name: f.name, partition: partSet.has(f.name),
                                         ...kindOf(f.type) }));
const dataCols = cols.filter((c) => !c.partition);

const live = [...fromCp.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
for (const add of live)
  if (add.deletionVector) die(`${add.path} has a deletion vector (not handled here)`);
const res = {
  latest_version: latest,
  checkpoint_version: cpVersion,
  last_checkpoint: lastCp,
  checkpoint_files: checkpoints,
  json_commits_replayed: latest - cpVersion,
  checkpoint_adds: nadds,
  columns: cols.map((c) => c.name),
  live_files: live.map((a) => a.path),
  duckdb: [],
  arrow: [],
};
for (const add of live) {
  // add.path is a relative URI: percent-escapes decode to the file's name.
  const path = `${table}/${decodeURIComponent(add.path)}`;
  res.duckdb.push(...assemble(cols, dataCols, add, await readDuck(con, path, dataCols)));
  res.arrow.push(...assemble(cols, dataCols, add, readArrow(path, dataCols)));
}
console.log(JSON.stringify(res));
