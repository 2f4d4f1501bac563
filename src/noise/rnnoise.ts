/**
 * Noise suppression with RNNoise (`@echogarden/rnnoise-wasm`, BSD-3-Clause): a recurrent network that removes
 * stationary and non-stationary noise from speech, on 10 ms frames at 48 kHz. Input at other rates is resampled
 * to 48 kHz and back; multi-channel input is mixed to mono first. The model's 10 ms of delay is compensated, so
 * the output lines up with the input and has the same length.
 */
import { Observable, Subject, type OperatorFunction, type Subscription } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';
import { toMono } from '../audio/operators.ts';
import { resample } from '../audio/resample.ts';

const RATE = 48000;
const FRAME = 480;

interface RnnoiseModule {
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(st: number): void;
  _rnnoise_process_frame(st: number, out: number, input: number): number;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPF32: Float32Array;
}

let loading: Promise<RnnoiseModule> | null = null;
const loadRnnoise = () => (loading ??= import('@echogarden/rnnoise-wasm').then((m) => m.default() as Promise<RnnoiseModule>));

/** Something that cleans an input stream: pass one as `noiseCancellation`. */
export interface NoiseCancellation {
  readonly label: string;
  process(frames: Observable<AudioFrame>): Observable<AudioFrame>;
}

/** Denoises mono 48 kHz frames; keeps length and timing. */
function denoise48k(m: RnnoiseModule): OperatorFunction<AudioFrame, AudioFrame> {
  return (source) =>
    new Observable<AudioFrame>((sub) => {
      const st = m._rnnoise_create(0);
      const inPtr = m._malloc(FRAME * 4);
      const outPtr = m._malloc(FRAME * 4);
      let pending: number[] = [];
      let skip = FRAME; // the first 10 ms out are the model's delay, not audio
      let total = 0;
      let emitted = 0;
      const ready: number[] = [];
      const run = (block: ArrayLike<number>) => {
        m.HEAPF32.set(block, inPtr >> 2);
        m._rnnoise_process_frame(st, outPtr, inPtr);
        const out = m.HEAPF32.subarray(outPtr >> 2, (outPtr >> 2) + FRAME);
        for (let i = 0; i < FRAME; i++) {
          if (skip > 0) skip--;
          else ready.push(out[i]!);
        }
      };
      const flushReady = (limit: number) => {
        const n = Math.min(ready.length, limit - emitted);
        if (n <= 0) return;
        const data = new Int16Array(n);
        for (let i = 0; i < n; i++) data[i] = Math.max(-32768, Math.min(32767, Math.round(ready[i]!)));
        ready.splice(0, n);
        emitted += n;
        sub.next(new AudioFrame(data, RATE, 1, n));
      };
      let freed = false;
      const free = () => {
        if (freed) return;
        freed = true;
        m._rnnoise_destroy(st);
        m._free(inPtr);
        m._free(outPtr);
      };
      const inner = source.subscribe({
        next: (f) => {
          total += f.samplesPerChannel;
          for (const v of f.data) pending.push(v); // RNNoise works on float samples in the 16-bit range
          let off = 0;
          for (; off + FRAME <= pending.length; off += FRAME) run(pending.slice(off, off + FRAME));
          pending = pending.slice(off);
          flushReady(total);
        },
        error: (e) => (free(), sub.error(e)),
        complete: () => {
          // Push the tail and one block of silence through, so the delayed last 10 ms come out too.
          const tail = new Array(FRAME).fill(0);
          pending.forEach((v, i) => (tail[i] = v));
          run(tail);
          run(new Array(FRAME).fill(0));
          flushReady(total);
          free();
          sub.complete();
        },
      });
      return () => {
        inner.unsubscribe();
        free();
      };
    });
}

/**
 * RNNoise as a NoiseCancellation; the output keeps the input's sample rate (mono). The input is subscribed at
 * once and buffered while the WASM module loads (first use in the process), so nothing is lost.
 */
export function rnnoise(): NoiseCancellation {
  void loadRnnoise(); // start loading now: the first stream should not wait
  return {
    label: 'rnnoise',
    process: (frames) =>
      new Observable<AudioFrame>((sub) => {
        const input = new Subject<AudioFrame>();
        const early: AudioFrame[] = [];
        let module: RnnoiseModule | null = null;
        let pipeline: Subscription | null = null;
        let ended: { error?: unknown } | null = null;
        const begin = (rate: number) => {
          const chain = rate === RATE ? input.pipe(toMono(), denoise48k(module!)) : input.pipe(toMono(), resample(RATE), denoise48k(module!), resample(rate));
          pipeline = chain.subscribe(sub);
          for (const f of early.splice(0)) input.next(f);
          if (ended) ended.error !== undefined ? input.error(ended.error) : input.complete();
        };
        const source = frames.subscribe({
          next: (f) => {
            if (pipeline) return input.next(f);
            early.push(f);
            if (module) begin(f.sampleRate);
          },
          error: (e) => (pipeline ? input.error(e) : (ended = { error: e })),
          complete: () => (pipeline ? input.complete() : (ended = {})),
        });
        loadRnnoise().then(
          (m) => {
            module = m;
            if (!pipeline && early.length) begin(early[0]!.sampleRate);
            else if (!pipeline && ended) ended.error !== undefined ? sub.error(ended.error) : sub.complete();
          },
          (e) => sub.error(new Error(`cannot load RNNoise: ${(e as Error).message}`)),
        );
        return () => {
          source.unsubscribe();
          pipeline?.unsubscribe();
        };
      }),
  };
}
