/**
 * `npm run bench`: runs every `bench/*.bench.ts` module (each default-exports an async function returning a
 * JSON-serialisable object) and prints one JSON document keyed by module name. `npm run bench -- name` runs one.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const results: Record<string, unknown> = {
  machine: { node: process.version, platform: process.platform, arch: process.arch, cpus: (await import('node:os')).cpus().length },
};
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { default: () => Promise<unknown> };
  const name = f.replace(/\.bench\.ts$/, '');
  process.stderr.write(`bench: ${name}...\n`);
  try {
    results[name] = await mod.default();
  } catch (e) {
    results[name] = { error: String((e as Error)?.stack ?? e) };
  }
}
console.log(JSON.stringify(results, null, 2));
