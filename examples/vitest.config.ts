/**
 * Runs examples/*.test.ts in this checkout (`npx vitest run --config examples/vitest.config.ts`): `voicechart`
 * imports resolve to the sources here, as they resolve to the installed package in an app.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('..'),
  resolve: {
    alias: [
      { find: /^voicechart\/testing$/, replacement: here('../src/testing/index.ts') },
      { find: /^voicechart$/, replacement: here('../src/index.ts') },
    ],
  },
  test: { include: ['examples/**/*.test.ts'], testTimeout: 30_000 },
});
