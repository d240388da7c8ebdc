import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['emulator-core/**/*.test.ts', 'app/**/*.test.ts', 'test/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'main/**/*.test.ts'],
    exclude: ['node_modules', 'dist'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
