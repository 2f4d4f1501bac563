#!/usr/bin/env node
// The `voicechart` command. An installed package runs the compiled CLI in dist/ (plain Node, no TypeScript
// loader); a checkout of the repository, which has the sources and no build, runs them through tsx.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/bin.js', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/src/cli/main.js', import.meta.url).href);
