import { defineConfig } from 'vitest/config'

// One PostgreSQL cluster for the whole run (test/global-setup.ts); each test makes its own
// database in it. Two cores: run files in parallel, but not too many at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
})
