/**
 * The Speex resampler (`@echogarden/speex-resampler-wasm`, BSD-3-Clause), loaded once per process. The SIMD
 * build is used when the runtime supports it; the plain build otherwise.
 */
import { AudioFormatError } from './frame.ts';

interface SpeexModule {
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_process_interleaved_int(st: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
  _speex_resampler_get_input_latency(st: number): number;
  _speex_resampler_skip_zeros(st: number): number;
  _speex_resampler_destroy(st: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAP16: Int16Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
}

let loaded: SpeexModule | null = null;
let loading: Promise<SpeexModule> | null = null;

export function loadSpeex(): Promise<SpeexModule> {
  loading ??= (async () => {
    let factory: () => Promise<SpeexModule>;
    try {
      factory = (await import('@echogarden/speex-resampler-wasm/simd')).default as () => Promise<SpeexModule>;
      loaded = await factory();
    } catch {
      factory = (await import('@echogarden/speex-resampler-wasm')).default as () => Promise<SpeexModule>;
      loaded = await factory();
    }
    return loaded;
  })();
  return loading;
}

/**
 * Starts loading the module in the background (idempotent), so the first frame that needs resampling does not wait
 * for it (the load takes about 20 ms, blocking the event loop for at most a few ms of it). A load failure is not
 * reported here: the resampler that needs the module reports it.
 */
export function preloadSpeex(): void {
  loadSpeex().catch(() => {});
}

/** The module if it has finished loading (so hot paths stay synchronous). */
export const speexIfLoaded = (): SpeexModule | null => loaded;

/** One resampler state: interleaved 16-bit PCM in, interleaved 16-bit PCM out. */
export class SpeexResampler {
  private st: number;
  private inPtr = 0;
  private outPtr = 0;
  private cap = 0;
  private readonly lens: number;

  constructor(
    private readonly m: SpeexModule,
    readonly channels: number,
    readonly inRate: number,
    readonly outRate: number,
    quality = 5,
  ) {
    const err = m._malloc(4);
    this.st = m._speex_resampler_init(channels, inRate, outRate, quality, err);
    const code = m.HEAP32[err >> 2]!;
    m._free(err);
    if (!this.st || code !== 0) throw new AudioFormatError(`cannot resample ${inRate} Hz → ${outRate} Hz (speex error ${code})`);
    // Skip the filter's leading zeros so output and input stay aligned in time.
    m._speex_resampler_skip_zeros(this.st);
    this.lens = m._malloc(8);
  }

  /** Samples per channel the filter holds back; pushing that many zeros flushes the tail. */
  get inputLatency(): number {
    return this.m._speex_resampler_get_input_latency(this.st);
  }

  process(input: Int16Array): Int16Array {
    const m = this.m;
    const perChannel = input.length / this.channels;
    const outPerChannel = Math.ceil((perChannel * this.outRate) / this.inRate) + 16;
    const need = Math.max(input.length, outPerChannel * this.channels);
    if (need > this.cap) {
      if (this.inPtr) m._free(this.inPtr), m._free(this.outPtr);
      this.cap = need * 2;
      this.inPtr = m._malloc(this.cap * 2);
      this.outPtr = m._malloc(this.cap * 2);
    }
    m.HEAP16.set(input, this.inPtr >> 1);
    m.HEAPU32[this.lens >> 2] = perChannel;
    m.HEAPU32[(this.lens >> 2) + 1] = outPerChannel;
    m._speex_resampler_process_interleaved_int(this.st, this.inPtr, this.lens, this.outPtr, this.lens + 4);
    const produced = m.HEAPU32[(this.lens >> 2) + 1]! * this.channels;
    // Copy out: the WASM heap may grow (and move) on the next allocation.
    return m.HEAP16.slice(this.outPtr >> 1, (this.outPtr >> 1) + produced);
  }

  /** Releases the WASM memory; the resampler is unusable afterwards. */
  destroy(): void {
    if (!this.st) return;
    this.m._speex_resampler_destroy(this.st);
    if (this.inPtr) this.m._free(this.inPtr), this.m._free(this.outPtr);
    this.m._free(this.lens);
    this.st = 0;
  }
}
