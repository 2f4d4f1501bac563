/**
 * Silero VAD as a voicechart VAD: any input (rate, channels) is mixed to mono and resampled to 16 kHz, cut into
 * 32 ms windows (512 samples, with the previous 64 as context, as the model requires) and classified. Speech
 * starts after `minSpeechDuration` above the activation threshold and ends after `minSilenceDuration` below the
 * deactivation threshold (hysteresis in between). No smoothing of the probability is applied.
 */
import { Observable } from 'rxjs';
import { AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/operators.ts';
import { resample } from '../../audio/resample.ts';
import type { VAD, VADEvent } from '../../providers/types.ts';
import { CONTEXT, defaultModelPath, SileroModel, STATE_SIZE, WINDOW, type SileroInference } from './model.ts';
import { INFERENCE_SOCKET_ENV, SileroSharedModel } from './sharedModel.ts';
import { SileroThreadModel } from './threadModel.ts';

export interface SileroOptions {
  activationThreshold?: number;
  /** Default: activation − 0.15. */
  deactivationThreshold?: number;
  minSpeechDuration?: number;
  minSilenceDuration?: number;
  /** Audio kept before the detected start, included in the end-of-speech frames. */
  prefixPaddingDuration?: number;
  modelPath?: string;
  /** Batch windows of concurrent streams into one model call (default true). */
  batching?: boolean;
  /**
   * Where the model runs: 'main' (this thread; least memory for a lone process), 'worker', a thread of its own, for
   * a process that serves many sessions: inference then takes another core instead of blocking the event loop that
   * moves every session's audio (always batched; one thread per model file and process), or 'shared', the worker's
   * inference host, which every job process of a worker reaches over a Unix socket (no onnxruntime in the job
   * process; windows of all its jobs batched together). Default: 'shared' in a job process of a worker with shared
   * inference (env VOICECHART_INFERENCE_SOCKET; if its host cannot be reached, 'main' with a warning), else 'main'.
   */
  thread?: 'main' | 'worker' | 'shared';
  /**
   * With `thread: 'worker'` or 'shared': how long a frame's windows may wait for other sessions' before going to the thread
   * (default 0: at the end of the current turn). A few ms (10 in the rooms bench) let the windows of many sessions
   * share one round-trip to the thread and one model call, at that much added VAD latency.
   */
  batchDelayMs?: number;
}

const RATE = 16000;
const threadModels = new Map<string, Promise<SileroInference>>();
const WINDOW_MS = (WINDOW / RATE) * 1000; // 32 ms

export class SileroVAD implements VAD {
  readonly label = 'silero';
  readonly opts: Required<Omit<SileroOptions, 'modelPath' | 'batching' | 'thread'>>;

  private constructor(
    readonly model: SileroInference,
    o: SileroOptions,
  ) {
    const activation = o.activationThreshold ?? 0.5;
    this.opts = {
      activationThreshold: activation,
      deactivationThreshold: o.deactivationThreshold ?? Math.max(activation - 0.15, 0.01),
      minSpeechDuration: o.minSpeechDuration ?? 50,
      minSilenceDuration: o.minSilenceDuration ?? 550,
      prefixPaddingDuration: o.prefixPaddingDuration ?? 500,
      batchDelayMs: o.batchDelayMs ?? 0,
    };
    if (!(this.opts.batchDelayMs >= 0 && Number.isFinite(this.opts.batchDelayMs))) throw new RangeError('batchDelayMs must be a finite number ≥ 0');
    if (!(this.opts.activationThreshold > 0 && this.opts.activationThreshold < 1)) throw new RangeError('activationThreshold must be in (0, 1)');
    if (this.opts.deactivationThreshold > this.opts.activationThreshold) throw new RangeError('deactivationThreshold must not exceed activationThreshold');
  }

  /** A VAD over a model loaded already (one of this plugin's, or another implementation of SileroInference). */
  static over(model: SileroInference, opts: SileroOptions = {}): SileroVAD {
    return new SileroVAD(model, opts);
  }

  /** Loads (or reuses) the model; one loaded model serves every stream in the process. */
  static async load(opts: SileroOptions = {}): Promise<SileroVAD> {
    const thread = opts.thread ?? (process.env[INFERENCE_SOCKET_ENV] ? 'shared' : 'main');
    if (thread !== 'main' && thread !== 'worker' && thread !== 'shared') throw new RangeError(`thread must be 'main', 'worker' or 'shared', got ${String(opts.thread)}`);
    if (thread === 'main') return new SileroVAD(await SileroModel.load(opts), opts);
    const socket = process.env[INFERENCE_SOCKET_ENV];
    if (thread === 'shared' && !socket) throw new Error(`thread 'shared' needs the worker's inference host (${INFERENCE_SOCKET_ENV} is not set: this is not a job process of a worker with shared inference)`);
    const path = opts.modelPath ?? defaultModelPath();
    const key = `${thread}:${socket ?? ''}:${path}`;
    let m = threadModels.get(key);
    if (!m) {
      m = thread === 'worker' ? SileroThreadModel.load(path) : SileroSharedModel.load(socket!, path, { reconnectMs: opts.thread ? undefined : 5_000 });
      threadModels.set(key, m);
      m.catch(() => threadModels.delete(key));
    }
    try {
      return new SileroVAD(await m, opts);
    } catch (e) {
      // The default choice of the shared host falls back to this thread when the host is unreachable (a model that
      // cannot be loaded fails either way); asked for explicitly, it does not.
      if (opts.thread || !/cannot reach the inference host/.test((e as Error).message)) throw e;
      console.warn(`${(e as Error).message}; running Silero VAD in this process instead`);
      return new SileroVAD(await SileroModel.load(opts), opts);
    }
  }

  stream(audio: Observable<AudioFrame>): Observable<VADEvent> {
    const o = this.opts;
    return new Observable<VADEvent>((sub) => {
      let state: Float32Array = new Float32Array(STATE_SIZE);
      let context = new Float32Array(CONTEXT);
      let pending = new Int16Array(0);
      let chain = Promise.resolve();
      let position = 0; // ms of audio classified
      let speaking = false;
      let speechRun = 0;
      let silenceRun = 0;
      let speechStart = 0;
      let lastSpeechEnd = 0;
      const padWindows = Math.ceil(o.prefixPaddingDuration / WINDOW_MS);
      const recent: Int16Array[] = []; // the last windows, for prefix padding
      let speech: Int16Array[] = [];
      let closed = false;

      /** The model's input for a window: the previous input's last CONTEXT samples, then the window in −1..1. */
      const inputOf = (win: Int16Array) => {
        const input = new Float32Array(CONTEXT + WINDOW);
        input.set(context);
        for (let i = 0; i < WINDOW; i++) input[CONTEXT + i] = win[i]! / 32768;
        context = input.slice(WINDOW); // the last 64 samples of this input
        return input;
      };

      /** A frame's windows in one request: each classified in order, on the state the previous one left. */
      const classifyAll = async (wins: Int16Array[], inputs: Float32Array[]) => {
        const r = await this.model.inferWindows(inputs, state, o.batchDelayMs);
        if (closed) return;
        state = r.state;
        wins.forEach((win, i) => !closed && classified(win, r.probabilities[i]!, r.inferenceMs));
      };

      const classified = (win: Int16Array, p: number, inferenceMs: number) => {
        position += WINDOW_MS;
        if (p >= o.activationThreshold) {
          speechRun += WINDOW_MS;
          silenceRun = 0;
        } else if (p < o.deactivationThreshold) {
          silenceRun += WINDOW_MS;
          if (!speaking) speechRun = 0;
        } else if (speaking) silenceRun = 0;
        recent.push(win);
        if (recent.length > padWindows + 1) recent.shift();
        if (speaking) speech.push(win);
        const base = { timestamp: position, inferenceDuration: inferenceMs, probability: p };
        if (!speaking && speechRun >= o.minSpeechDuration) {
          speaking = true;
          speechStart = position - speechRun;
          speech = recent.slice(); // prefix padding plus the speech so far
          sub.next({ ...base, type: 'start_of_speech', speechDuration: speechRun, silenceDuration: 0, speaking: true });
        } else if (speaking && silenceRun >= o.minSilenceDuration) {
          speaking = false;
          lastSpeechEnd = position - silenceRun;
          const frames = speech.map((d) => new AudioFrame(d, RATE, 1, d.length));
          speech = [];
          speechRun = 0;
          sub.next({ ...base, type: 'end_of_speech', speechDuration: lastSpeechEnd - speechStart, silenceDuration: silenceRun, speaking: false, frames });
        }
        sub.next({
          ...base,
          type: 'inference_done',
          speaking,
          speechDuration: speaking ? position - speechStart : 0,
          silenceDuration: speaking ? silenceRun : position - lastSpeechEnd,
        });
      };

      const input = audio.pipe(toMono(), resample(RATE)).subscribe({
        next: (f) => {
          if (!f.samplesPerChannel) return;
          const joined = new Int16Array(pending.length + f.data.length);
          joined.set(pending);
          joined.set(f.data, pending.length);
          let off = 0;
          const wins: Int16Array[] = [];
          for (; off + WINDOW <= joined.length; off += WINDOW) wins.push(joined.slice(off, off + WINDOW));
          pending = joined.slice(off);
          if (!wins.length) return;
          const inputs = wins.map(inputOf);
          chain = chain.then(() => classifyAll(wins, inputs)).catch((e) => {
            closed = true;
            sub.error(e);
          });
        },
        error: (e) => sub.error(e),
        complete: () => void chain.then(() => !closed && sub.complete()),
      });
      return () => {
        closed = true;
        input.unsubscribe();
      };
    });
  }
}
