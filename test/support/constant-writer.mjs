// A writer in its own process for the "backup while the application writes" tests: each
// transaction inserts row n into tables a and b and sets counter = n, as fast as it can,
// until killed. Prints "ready <n>" once it has committed a few transactions.
// Usage: node constant-writer.mjs <sqlite-file | postgres-url>
import { setImmediate as yieldToLoop } from 'node:timers/promises'

const target = process.argv[2]
let n = 0
let announced = false
const announce = () => {
  if (!announced && n >= 20) {
    announced = true
    process.stdout.write(`ready ${n}\n`)
  }
}

if (target.startsWith('postgres')) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: target })
  await client.connect()
  n = Number((await client.query('SELECT n FROM counter')).rows[0].n)
  for (;;) {
    n++
    await client.query('BEGIN')
    await client.query('INSERT INTO a (n) VALUES ($1)', [n])
    await client.query('INSERT INTO b (n) VALUES ($1)', [n])
    await client.query('UPDATE counter SET n = $1', [n])
    await client.query('COMMIT')
    announce()
  }
} else {
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(target, { timeout: 10_000 })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  n = db.prepare('SELECT n FROM counter').get().n
  const insertA = db.prepare('INSERT INTO a (n) VALUES (?)')
  const insertB = db.prepare('INSERT INTO b (n) VALUES (?)')
  const setCounter = db.prepare('UPDATE counter SET n = ?')
  const commit = db.transaction((value) => {
    insertA.run(value)
    insertB.run(value)
    setCounter.run(value)
  })
  for (;;) {
    commit(++n)
    announce()
    // one commit, then a pause far shorter than a backup step: the writer never stops for long
    if (n % 5 === 0) await yieldToLoop()
  }
}
