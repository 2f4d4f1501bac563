import { Observable, type OperatorFunction } from 'rxjs';
import { AudioFormatError, AudioFrame } from './frame.ts';
import { loadSpeex, speexIfLoaded, SpeexResampler } from './speex.ts';

export interface ResampleOptions {
  /** Speex quality 0..10 (default 5: transparent for speech, about 2000× real time with SIMD). */
  quality?: number;
}

/**
 * Resamples a frame stream to `toRate` with the Speex resampler. Frames already at `toRate` pass through untouched
 * (without waiting for the WASM module to load, which only the first frame that needs resampling does); a change
 * of input rate or channel count mid-stream starts a fresh filter; at completion the filter's tail is flushed,
 * so no audio is lost. WASM memory is freed when the stream ends or is unsubscribed.
 */
export function resample(toRate: number, opts: ResampleOptions = {}): OperatorFunction<AudioFrame, AudioFrame> {
  if (!Number.isInteger(toRate) || toRate < 1000 || toRate > 384000) {
    throw new AudioFormatError(`cannot resample to ${toRate} Hz: the target rate must be an integer from 1000 to 384000`);
  }
  return (source) =>
    new Observable<AudioFrame>((sub) => {
      let r: SpeexResampler | null = null;
      // Frames that arrive while the WASM module is still loading wait here, in order. Only a frame that needs
      // resampling starts the wait: frames already at `toRate` pass straight through, loaded or not.
      let backlog: AudioFrame[] | null = null;
      let completed = false;
      let closed = false;

      const flush = () => {
        if (!r) return;
        const tail = r.process(new Int16Array(r.inputLatency * r.channels));
        if (tail.length) sub.next(new AudioFrame(tail, toRate, r.channels, tail.length / r.channels));
        r.destroy();
        r = null;
      };
      const handle = (f: AudioFrame) => {
        if (f.sampleRate === toRate) {
          flush();
          return sub.next(f);
        }
        if (!r || r.inRate !== f.sampleRate || r.channels !== f.channels) {
          flush();
          r = new SpeexResampler(speexIfLoaded()!, f.channels, f.sampleRate, toRate, opts.quality ?? 5);
        }
        const out = r.process(f.data);
        if (out.length) sub.next(new AudioFrame(out, toRate, f.channels, out.length / f.channels, f.userdata));
      };
      const finish = () => {
        flush();
        sub.complete();
      };
      const waitForSpeex = (first: AudioFrame) => {
        backlog = [first];
        loadSpeex().then(
          () => {
            if (closed) return;
            const queued = backlog!;
            backlog = null;
            try {
              for (const f of queued) handle(f);
              if (completed) finish();
            } catch (e) {
              sub.error(e);
            }
          },
          (e) => sub.error(new AudioFormatError(`cannot load the Speex resampler: ${(e as Error).message}`)),
        );
      };
      const inner = source.subscribe({
        next: (f) => {
          if (backlog) return void backlog.push(f);
          if (f.sampleRate !== toRate && !speexIfLoaded()) return waitForSpeex(f);
          try {
            handle(f);
          } catch (e) {
            sub.error(e);
          }
        },
        error: (e) => sub.error(e),
        complete: () => {
          completed = true;
          if (!backlog) finish();
        },
      });
      return () => {
        closed = true;
        inner.unsubscribe();
        r?.destroy();
      };
    });
}
