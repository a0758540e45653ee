import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Native addons (sodium-native, better-sqlite3, zstd-napi) and child processes: forks are the safe pool.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: run two test files at once, each may spawn CLI children.
    maxWorkers: 2,
  },
});
