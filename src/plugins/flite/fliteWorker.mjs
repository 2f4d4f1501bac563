// Worker thread running the flite WASI module, so synthesis never blocks the main event loop.
// Plain JS on purpose: workers start without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
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
const module = await WebAssembly.compile(await readFile(workerData.wasmPath));
const dir = await mkdtemp(join(tmpdir(), 'voicechart-flite-'));

parentPort.on('message', async ({ id, text, voice }) => {
  try {
    const out = `/out/${id}.wav`;
    const wasi = new WASI({ version: 'preview1', args: ['flite', '-voice', voice, '-t', text, '-o', out], preopens: { '/out': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with code ${code}`);
    const file = join(dir, `${id}.wav`);
    const bytes = await readFile(file);
    await rm(file, { force: true });
    parentPort.postMessage({ id, wav: bytes.buffer }, [bytes.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: String(e?.message ?? e) });
  }
});
parentPort.on('close', () => rm(dir, { recursive: true, force: true }));
