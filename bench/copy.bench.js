// `dbops copy` of a generated SQLite database into PostgreSQL, beside Debian's `pgloader` on the
// same file, alternating in the same run. The database: BENCH_COPY_MB (default 1024) MB in three
// tables of mixed types (integers, text, doubles, numerics, booleans as 0/1, timestamps as
// text, blobs), with a foreign key. Each round copies into a fresh database with each tool.
// Figures: wall time, rows per second, peak RSS of the copying process (/usr/bin/time -v).
// Targets: faster than pgloader; dbops' peak RSS under 200 MB whatever the size.
// BENCH_COPY_RUNS (default 1) rounds. dbops also verifies (reads every row back and compares
// checksums); pgloader does not, so its time is reported with and without that step.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

/** Generates the SQLite file with the sqlite3 shell (fast: one recursive CTE per table). */
function generate(file, megabytes) {
  // about 330 bytes a row over the three tables; rows of accounts : events = 1 : 20
  const events = Math.max(1000, Math.round((megabytes * 1024 * 1024) / 300))
  const accounts = Math.max(50, Math.round(events / 20))
  const sql = `
PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, active BOOLEAN NOT NULL, balance NUMERIC(12,2), created DATETIME);
CREATE TABLE events (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id), kind TEXT, score REAL, payload TEXT, created DATETIME, digest BLOB);
CREATE TABLE tags (event_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (event_id, tag));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${accounts})
INSERT INTO accounts SELECT i, printf('user%d@example.com', i), i % 2, (i * 7 % 100000) / 100.0, printf('2024-%02d-%02d 10:%02d:00', i % 12 + 1, i % 28 + 1, i % 60) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${events})
INSERT INTO events SELECT i, i % ${accounts} + 1, 'kind' || (i % 17), i / 7.0, printf('{"n":%d,"text":"%s"}', i, hex(randomblob(80))), printf('2024-%02d-%02d %02d:%02d:%02d', i % 12 + 1, i % 28 + 1, i % 24, i % 60, i % 59), randomblob(16) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${Math.round(events / 4)})
INSERT INTO tags SELECT i * 4, 'tag' || (i % 13) FROM n;
`
  const result = spawnSync('sqlite3', [file], { input: sql, stdio: ['pipe', 'ignore', 'inherit'] })
  if (result.status !== 0) throw new Error('sqlite3 could not generate the database')
  return accounts + events + Math.round(events / 4)
}

export default async function copyBench(ctx) {
  const megabytes = Number(process.env.BENCH_COPY_MB ?? 1024)
  const runs = Number(process.env.BENCH_COPY_RUNS ?? 1)
  const dir = ctx.tmpDir('dbops-bench-copy-')
  const file = path.join(dir, 'source.db')
  const adminUrl = await ctx.pgAdminUrl()
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    const genStarted = Date.now()
    const rows = generate(file, megabytes)
    ctx.print(
      `source: ${mib(fs.statSync(file).size)} SQLite file, ${rows.toLocaleString('en-US')} rows in 3 tables (generated in ${((Date.now() - genStarted) / 1000).toFixed(0)} s)`,
    )
    const fresh = async (name) => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${name}`)
      const url = new URL(adminUrl)
      url.pathname = `/${name}`
      return url.toString()
    }
    const results = { dbops: [], pgloader: [] }
    for (let round = 0; round < runs; round++) {
      const dbopsUrl = await fresh('dbops_bench_copy_dbops')
      const ours = await ctx.runMeasured(process.execPath, [ctx.binPath, 'copy', '--from', `sqlite:${file}`, '--to', dbopsUrl, '--json'], {
        cwd: dir,
      })
      if (ours.code !== 0) throw new Error(`dbops copy failed: ${ours.stdout}${ours.stderr.slice(0, 2000)}`)
      results.dbops.push({ ...ours, doc: JSON.parse(ours.stdout) })
      const loaderUrl = await fresh('dbops_bench_copy_pgloader')
      const theirs = await ctx.runMeasured(
        'pgloader',
        ['--no-ssl-cert-verification', `sqlite://${file}`, loaderUrl.replace(/^postgres:/, 'postgresql:')],
        { cwd: dir },
      )
      const loaded = await new pg.Client({ connectionString: loaderUrl })
      await loaded.connect()
      const counted = await loaded
        .query('SELECT sum(n_live_tup)::bigint AS n FROM pg_stat_user_tables')
        .then(
          async () =>
            (
              await loaded.query(
                'SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM events) + (SELECT count(*) FROM tags) AS n',
              )
            ).rows[0].n,
        )
        .catch((err) => `error: ${err.message}`)
      await loaded.end()
      results.pgloader.push({ ...theirs, rowsLoaded: counted })
    }
    const median = (values) => ctx.median(values)
    const oursMs = median(results.dbops.map((r) => r.ms))
    const theirsMs = median(results.pgloader.map((r) => r.ms))
    const tableMs = median(results.dbops.map((r) => r.doc.tables.reduce((n, t) => n + t.ms, 0)))
    const rss = Math.max(...results.dbops.map((r) => r.peakRssKb)) / 1024
    const loaderRss = Math.max(...results.pgloader.map((r) => r.peakRssKb)) / 1024
    ctx.print(
      `dbops copy   ${(oursMs / 1000).toFixed(1).padStart(7)} s  ${Math.round((rows * 1000) / oursMs)
        .toLocaleString('en-US')
        .padStart(
          9,
        )} rows/s  peak RSS ${rss.toFixed(0)} MB  (load ${(tableMs / 1000).toFixed(1)} s, the rest is verification and set-up; verified: ${results.dbops.every((r) => r.doc.tables.every((t) => t.match))})`,
    )
    ctx.print(
      `pgloader     ${(theirsMs / 1000).toFixed(1).padStart(7)} s  ${Math.round((rows * 1000) / theirsMs)
        .toLocaleString('en-US')
        .padStart(
          9,
        )} rows/s  peak RSS ${loaderRss.toFixed(0)} MB  (exit ${results.pgloader.map((r) => r.code).join(', ')}; rows in the target: ${results.pgloader.map((r) => r.rowsLoaded).join(', ')} of ${rows})`,
    )
    ctx.print(
      `ratio dbops / pgloader: ${(oursMs / theirsMs).toFixed(2)} (target < 1); dbops peak RSS target < 200 MB: ${rss < 200 ? 'met' : 'MISSED'}`,
    )
    await admin.query('DROP DATABASE IF EXISTS dbops_bench_copy_dbops WITH (FORCE)')
    await admin.query('DROP DATABASE IF EXISTS dbops_bench_copy_pgloader WITH (FORCE)')
  } finally {
    await admin.end()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
