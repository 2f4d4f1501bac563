#!/usr/bin/env node
// The `voicechart` command. The installed package runs the compiled CLI (dist/src/cli/main.js) on plain Node; a
// checkout of the repository, which has the sources and no build, runs the same module from src/ through tsx.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
