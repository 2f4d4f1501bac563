#!/usr/bin/env node
// `npm run build`: compiles the package into dist/ (ESM JavaScript + declarations) and copies what the runtime
// reads from disk next to the compiled code. Plain JavaScript so that it needs nothing but TypeScript to run.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

// Files read at run time through `new URL(..., import.meta.url)` or by path: they must sit where the compiled
// modules expect them.
const assets = [
  'src/plugins/flite/fliteWorker.mjs', // forked by the Flite plugin
  'src/plugins/silero/inferenceWorker.mjs', // Silero's inference thread (thread: 'worker')
  'src/plugins/silero/batchRun.mjs', // the batch runner it and model.ts import
  'src/plugins/silero/batchRun.d.mts', // its declarations (model.d.ts re-exports its window sizes)
  'src/plugins/silero/inferenceHost.mjs', // the worker's inference host, forked by actors/inferenceHostProcess
  'src/plugins/silero/hostWire.mjs', // its framing, which sharedModel.ts imports too
  'src/plugins/silero/hostWire.d.mts',
  'examples/sample-input.wav', // the console's default input
];
for (const file of assets) cpSync(join(root, file), join(dist, file));

const walk = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));

// Declaration shims for dependencies that ship no types (src/types/*.d.ts). tsc does not copy .d.ts inputs; a
// shipped declaration that imports one of these modules gets a reference to its shim, so consumers type-check it.
const shims = new Map();
for (const file of walk(join(root, 'src/types')).filter((f) => f.endsWith('.d.ts'))) {
  const target = join(dist, relative(root, file));
  cpSync(file, target);
  for (const [, name] of readFileSync(file, 'utf8').matchAll(/declare module '([^']+)'/g)) shims.set(name, target);
}

// tsc rewrites `./x.ts` to `./x.js` in JavaScript (rewriteRelativeImportExtensions) but keeps `.ts` in
// declarations; consumers resolve `.js` everywhere, so declarations are rewritten the same way.
const relativeTs = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*?)\.ts\2/g;
for (const file of walk(dist).filter((f) => f.endsWith('.d.ts') && !f.includes(`${join('src', 'types')}`))) {
  let text = readFileSync(file, 'utf8').replace(relativeTs, (_, lead, q, path) => `${lead}${q}${path}.js${q}`);
  const refs = [...shims].filter(([name]) => text.includes(`'${name}'`) || text.includes(`"${name}"`));
  const header = [...new Set(refs.map(([, shim]) => relative(dirname(file), shim)))].map((p) => `/// <reference path="${p.startsWith('.') ? p : `./${p}`}" />\n`);
  // Declarations that import Node's built-in modules name @types/node (a dependency) themselves, so they also
  // type-check in projects whose tsconfig lists no global types (`"types": []`, as `tsc --init` writes).
  if (/(['"])node:[^'"]+\1/.test(text) && !text.includes('<reference types="node"')) header.unshift('/// <reference types="node" />\n');
  text = header.join('') + text;
  writeFileSync(file, text);
}

// Every entry point named in package.json must exist, or the package is broken.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const targets = [
  ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))),
  ...Object.values(pkg.bin ?? {}),
];
const missing = targets.filter((t) => t.startsWith('./dist/') && !existsSync(join(root, t)));
if (missing.length) {
  console.error(`build: entry points missing from dist/: ${missing.join(', ')}`);
  process.exit(1);
}
console.log(`build: dist/ ready (${walk(dist).length} files)`);
