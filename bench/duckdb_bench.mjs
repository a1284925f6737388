// DuckDB (one thread) as the yardstick for sluice's Parquet benchmarks.
// usage: node duckdb_bench.mjs write IN.jsonl OUT.parquet
//        node duckdb_bench.mjs read FILE.parquet
//        node duckdb_bench.mjs checkpoint OUT.parquet N   (writes an N-add checkpoint)
// Prints one JSON line: {"op","seconds","rows"}; seconds include creating the
// DuckDB instance, as the figure does.
import { DuckDBInstance } from '@duckdb/node-api';

const [op, a, b] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await instance.connect();
let rows = 0;
if (op === 'write') {
  await conn.run(`COPY (SELECT * FROM read_json('${a}', format='newline_delimited',
      columns={id:'VARCHAR', customer_id:'VARCHAR', amount:'DOUBLE', qty:'INTEGER',
               ts:'TIMESTAMPTZ', status:'VARCHAR', note:'VARCHAR'}))
      TO '${b}' (FORMAT parquet, COMPRESSION snappy)`);
  const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT FROM '${b}'`);
  rows = Number(r.getRows()[0][0]);
} else if (op === 'read') {
  // A full decode: every column of every row materialised in memory.
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${a}')`);
  const r = await conn.runAndReadAll('SELECT count(*)::BIGINT FROM t');
  rows = Number(r.getRows()[0][0]);
} else if (op === 'checkpoint') {
  const n = Number(b);
  await conn.run(`COPY (
      SELECT NULL::STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT) AS txn,
             {'path': 'date=' || strftime(DATE '2026-01-01' + (i % 365)::INTEGER, '%Y-%m-%d')
                       || '/part-' || lpad(i::VARCHAR, 5, '0') || '-' || md5(i::VARCHAR) || '.c000.snappy.parquet',
              'partitionValues': MAP {'date': strftime(DATE '2026-01-01' + (i % 365)::INTEGER, '%Y-%m-%d')},
              'size': 1000000 + i, 'modificationTime': 1767225600000 + i,
              'dataChange': false,
              'stats': '{"numRecords":' || (1000 + i % 100) || ',"minValues":{"id":' || i || '},"maxValues":{"id":' || (i + 999) || '},"nullCount":{"id":0}}',
              'tags': NULL::MAP(VARCHAR, VARCHAR)} AS add,
             NULL::STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN) AS remove,
             NULL::STRUCT(id VARCHAR, schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT) AS metaData,
             NULL::STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER) AS protocol
      FROM range(${n}) r(i)
      UNION ALL
      SELECT NULL, NULL, NULL,
             {'id': 'bench', 'schemaString': '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"date","type":"string","nullable":true,"metadata":{}}]}',
              'partitionColumns': ['date'], 'configuration': MAP {}::MAP(VARCHAR, VARCHAR), 'createdTime': 1767225600000},
             NULL
      UNION ALL
      SELECT NULL, NULL, NULL, NULL, {'minReaderVersion': 1, 'minWriterVersion': 2})
    TO '${a}' (FORMAT parquet, COMPRESSION snappy)`);
  rows = n + 2;
} else {
  console.error('usage: duckdb_bench.mjs write IN OUT | read FILE | checkpoint OUT N');
  process.exit(2);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ op, seconds, rows }));
