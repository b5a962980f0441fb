import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['tsgi-source'] },
  ssr: { resolve: { conditions: ['tsgi-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
})
