/** `npm run visualize`: writes visualizations/<machine>.mmd for every machine, removes stale ones, and an index. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machines } from '../machines/index.ts';
import { toMermaid } from '../src/diagram/mermaid.ts';

export const VIS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'visualizations');

export function renderAll(): Map<string, string> {
  return new Map(Object.entries(machines).map(([name, m]) => [`${name}.mmd`, toMermaid(m)]));
}

export function indexPage(files: Map<string, string>): string {
  const parts = ['# Statecharts', '', 'Generated from `machines/` by `npm run visualize` — do not edit by hand.', ''];
  for (const [file, text] of files) {
    parts.push(`## ${file.replace(/\.mmd$/, '')}`, '', '```mermaid', text.trimEnd(), '```', '');
  }
  return parts.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(VIS_DIR, { recursive: true });
  const files = renderAll();
  for (const f of readdirSync(VIS_DIR)) if (f.endsWith('.mmd') && !files.has(f)) rmSync(join(VIS_DIR, f));
  for (const [f, text] of files) writeFileSync(join(VIS_DIR, f), text);
  writeFileSync(join(VIS_DIR, 'README.md'), indexPage(files));
  console.log(`wrote ${files.size} diagrams to ${VIS_DIR}`);
}
