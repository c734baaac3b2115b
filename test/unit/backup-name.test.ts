import { describe, expect, test } from 'vitest'
import {
  backupDatabaseName,
  formatBackupFileName,
  parseBackupFileName,
  parseTempFileName,
  tempFileName,
} from '../../src/backup/backup-name.js'
import { latestMigrationVersion, compareVersions } from '../../src/backup/latest-migration-file.js'

describe('backup file names', () => {
  const at = new Date('2025-01-02T03:04:05.678Z')

  test('format and parse round trip', () => {
    const name = formatBackupFileName('app', at, 'db.gz')
    expect(name).toBe('app-20250102T030405.678Z.db.gz')
    expect(parseBackupFileName(name)).toEqual({
      database: 'app',
      createdAt: at,
      extension: 'db.gz',
    })
  })

  test.each([
    { name: 'a temporary file', input: '.app-20250102T030405.678Z.db.tmp-42' },
    { name: 'a bad date', input: 'app-20251302T030405.678Z.db' },
    { name: 'no timestamp', input: 'app.db' },
    { name: 'the lock', input: '.app.backup-lock' },
  ])('$name is not a backup', ({ input }) => expect(parseBackupFileName(input)).toBeUndefined())

  test.each([
    {
      input: tempFileName('app-20250102T030405.678Z.db', 42),
      expected: { database: 'app', pid: 42 },
    },
    {
      input: tempFileName('my_db-20250102T030405.678Z.dump', 7, 'raw'),
      expected: { database: 'my_db', pid: 7 },
    },
    {
      input: `${tempFileName('app-20250102T030405.678Z.db', 42)}-journal`,
      expected: { database: 'app', pid: 42 },
    },
    { input: '.app-20250102T030405.678Z.db.json.tmp-9', expected: { database: 'app', pid: 9 } },
    { input: 'app-20250102T030405.678Z.db', expected: undefined },
    { input: '.app.backup-lock', expected: undefined },
  ])('temporary name $input', ({ input, expected }) => expect(parseTempFileName(input)).toEqual(expected))

  test.each([
    {
      name: 'SQLite file name without its extension',
      config: {
        databaseName: 'default',
        target: { dialect: 'sqlite' as const, path: '/srv/data/app.db' },
      },
      expected: 'app',
    },
    {
      name: 'the --db name wins',
      config: { databaseName: 'audit', target: { dialect: 'sqlite' as const, path: '/srv/x.db' } },
      expected: 'audit',
    },
    {
      name: 'PostgreSQL database, odd characters replaced',
      config: {
        databaseName: 'default',
        target: {
          dialect: 'postgres' as const,
          host: 'h',
          port: 5432,
          database: 'shop.eu/prod',
          user: 'u',
          password: undefined,
          tls: { mode: 'prefer' as const },
        },
      },
      expected: 'shop_eu_prod',
    },
  ])('database part: $name', ({ config, expected }) => expect(backupDatabaseName(config)).toBe(expected))
})

describe('latest migration version', () => {
  test('compares digit strings numerically', () => {
    expect(compareVersions('20250101000000', '9')).toBeGreaterThan(0)
    expect(compareVersions('002', '1')).toBeGreaterThan(0)
    expect(compareVersions('1', '1')).toBe(0)
  })

  test('a missing directory has none', () => expect(latestMigrationVersion('/nonexistent/migrations')).toBeUndefined())
})
