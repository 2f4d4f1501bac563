// Child process running the flite WASI module: synthesis never blocks the sessions' event loop, and a crash
// here cannot take the parent down. Plain JS on purpose: it starts without the TypeScript loader.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const originalEmit = process.emitWarning;
process.emitWarning = (w, ...rest) => {
  // Node 20 flags WASI as experimental on every construction; the warning says nothing actionable here.
  if (String(typeof w === 'string' ? w : w?.message).includes('WASI')) return;
  return originalEmit.call(process, w, ...rest);
};
const { WASI } = await import('node:wasi');
const module = await WebAssembly.compile(await readFile(process.argv[2]));
const dir = await mkdtemp(join(tmpdir(), 'voicechart-flite-'));

process.on('message', async ({ id, text, voice }) => {
  try {
    const out = `/out/${id}.wav`;
    const wasi = new WASI({ version: 'preview1', args: ['flite', '-voice', voice, '-t', text, '-o', out], preopens: { '/out': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with code ${code}`);
    const file = join(dir, `${id}.wav`);
    const bytes = await readFile(file);
    await rm(file, { force: true });
    process.send({ id, wav: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) });
  } catch (e) {
    process.send({ id, error: String(e?.message ?? e) });
  }
});
// The parent went away (or stopped us): clean up and leave.
process.on('disconnect', () => rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));
