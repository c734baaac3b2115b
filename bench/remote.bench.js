// Off-site upload: dbops' upload step against a bare script that uploads the same file with the
// SDK's Upload (same 5 MiB parts, 4 at a time), alternating in the same run, to a local s3rver.
//
// A SQLite database of BENCH_REMOTE_MB (default 500) MB of random (incompressible) rows is
// backed up with `dbops backup create --verify hash --remote …` (plain, and with
// BACKUP_AGE_RECIPIENTS: age encryption streamed into the upload); the figures are the
// upload step's own `upload_ms` from the JSON result. s3rver does not report checksums, so
// dbops then reads the object back (`read_back_ms`, reported apart); the bare script does the
// same read-back after its upload, so both columns compare like with like. Peak RSS: of each
// whole process (/usr/bin/time -v). Targets: dbops' upload ≤ 1.1x the bare script's without
// encryption; peak RSS under 150 MB at any size. BENCH_REMOTE_RUNS (default 3) rounds.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

const BARE = `
import fs from 'node:fs'
import { createHash } from 'node:crypto'
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
const [file, bucket, key] = process.argv.slice(2)
const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, region: 'us-east-1', forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' })
let t = performance.now()
await new Upload({ client, params: { Bucket: bucket, Key: key, Body: fs.createReadStream(file), ChecksumAlgorithm: 'SHA256' },
  partSize: 5 * 1024 * 1024, queueSize: 4 }).done()
const upload = performance.now() - t
t = performance.now()
const hash = createHash('sha256')
for await (const chunk of (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body) hash.update(chunk)
console.log(JSON.stringify({ upload_ms: Math.round(upload), read_back_ms: Math.round(performance.now() - t) }))
client.destroy()
`

/** ctx.runMeasured, failing on a non-zero exit. */
async function run(ctx, command, args, options) {
  const result = await ctx.runMeasured(command, args, options)
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`)
  return result
}

function makeDatabase(file, megabytes) {
  const Database = require('better-sqlite3')
  const db = new Database(file)
  db.pragma('synchronous = OFF')
  db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)')
  const insert = db.prepare('INSERT INTO blobs (payload) VALUES (?)')
  const rows = Math.ceil((megabytes * 1024 * 1024) / 4096)
  for (let start = 0; start < rows; start += 10_000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(rows, start + 10_000); i++) insert.run(randomBytes(4000))
    })()
  }
  db.close()
  return fs.statSync(file).size
}

export default async function remoteBench(ctx) {
  const megabytes = Number(process.env.BENCH_REMOTE_MB ?? 500)
  const runs = Number(process.env.BENCH_REMOTE_RUNS ?? 3)
  const work = ctx.tmpDir('dbops-bench-remote-')
  const { default: S3rver } = await import('s3rver')
  const { generateIdentity, identityToRecipient } = await import('age-encryption')
  const s3dir = path.join(work, 's3')
  fs.mkdirSync(s3dir)
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'bench' }] })
  const { port } = await server.run()
  try {
    const dbFile = path.join(work, 'app.db')
    const size = makeDatabase(dbFile, megabytes)
    const bareScript = path.join(ctx.repoRoot, 'bench', '.work', 'bare-upload.mjs')
    fs.writeFileSync(bareScript, BARE)
    const recipient = await identityToRecipient(await generateIdentity())
    const env = {
      DATABASE_URL: `sqlite:///${dbFile}`,
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      BACKUP_REMOTE_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      NO_COLOR: '1',
    }
    ctx.print(`SQLite database of ${mib(size)} (random rows); ${runs} rounds, alternating: bare SDK Upload, dbops, dbops + age`)
    const results = { bare: [], dbops: [], encrypted: [] }
    const clean = () => {
      for (const name of fs.readdirSync(s3dir)) if (name !== 'bench') fs.rmSync(path.join(s3dir, name), { recursive: true, force: true })
      fs.rmSync(path.join(s3dir, 'bench'), { recursive: true, force: true })
      fs.mkdirSync(path.join(s3dir, 'bench'))
    }
    let round = 0
    for (; round < runs; round++) {
      const out = path.join(work, `out-${round}`)
      fs.mkdirSync(out)
      clean()
      const plain = await run(
        ctx,
        process.execPath,
        [ctx.binPath, 'backup', 'create', '--verify', 'hash', '--dir', out, '--remote', 's3://bench/dbops', '--json'],
        { env },
      )
      const doc = JSON.parse(plain.stdout)
      results.dbops.push({ ...doc.remote, rss: plain.peakRssKb })
      const backupFile = doc.path
      clean()
      const bare = await run(ctx, process.execPath, [bareScript, backupFile, 'bench', 'bare/file'], { env, cwd: ctx.repoRoot })
      results.bare.push({ ...JSON.parse(bare.stdout), rss: bare.peakRssKb })
      clean()
      fs.rmSync(out, { recursive: true, force: true })
      fs.mkdirSync(out)
      const enc = await run(
        ctx,
        process.execPath,
        [ctx.binPath, 'backup', 'create', '--verify', 'hash', '--dir', out, '--remote', 's3://bench/dbops', '--json'],
        {
          env: { ...env, BACKUP_AGE_RECIPIENTS: recipient },
        },
      )
      results.encrypted.push({ ...JSON.parse(enc.stdout).remote, rss: enc.peakRssKb })
      fs.rmSync(out, { recursive: true, force: true })
      clean()
    }
    const med = (list, key) => ctx.median(list.map((r) => r[key]))
    const bareUpload = med(results.bare, 'upload_ms')
    for (const [name, list] of Object.entries(results)) {
      const up = med(list, 'upload_ms')
      const ratio = name === 'bare' ? '' : `  ${(up / bareUpload).toFixed(2)}x the bare upload`
      ctx.print(
        `  ${name.padEnd(9)} upload ${String(Math.round(up)).padStart(6)} ms (${(size / 1024 / 1024 / (up / 1000)).toFixed(0)} MB/s)` +
          `  read-back ${String(Math.round(med(list, 'read_back_ms'))).padStart(6)} ms  peak RSS ${(Math.max(...list.map((r) => r.rss)) / 1024).toFixed(0)} MB${ratio}`,
      )
    }
    ctx.print(
      '  per round upload ms: ' +
        Object.entries(results)
          .map(([n, l]) => `${n} ${l.map((r) => r.upload_ms).join('/')}`)
          .join(', '),
    )
  } finally {
    await server.close()
    fs.rmSync(work, { recursive: true, force: true })
  }
}
