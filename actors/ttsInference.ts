import { defer, finalize, Observable, share, tap } from 'rxjs';
import type { SynthesizedAudio, TTS } from '../src/providers/types.ts';
import type { Metrics } from '../src/session/events.ts';
import { streamingTTS } from '../src/tts/streamAdapter.ts';

export interface TTSInferenceHooks {
  onMetrics: (m: Metrics) => void;
  onError: (e: Error, recoverable: boolean) => void;
  speechId?: string;
  /** At the first audio: when (performance.now()) the first text reached the provider, and the ms to this audio. */
  onFirstAudio?: (t: { firstTextAt: number; ttfbMs: number }) => void;
}

/**
 * Streams text into a TTS and audio out, measuring time to first byte from the moment the first text reached
 * the provider. Non-streaming providers are wrapped by the sentence-tokenizing adapter.
 */
export function synthesizeStream(tts: TTS, text$: Observable<string>, hooks: TTSInferenceHooks): Observable<SynthesizedAudio> {
  return defer(() => {
    const streaming = streamingTTS(tts);
    let firstTextAt: number | null = null;
    let firstAudioAt: number | null = null;
    let chars = 0;
    let audioMs = 0;
    let requestId = '';
    let completed = false;
    const startedAt = performance.now();
    const counted = text$.pipe(
      tap((t) => {
        if (firstTextAt === null && t.length) firstTextAt = performance.now();
        chars += t.length;
      }),
      share(),
    );
    return streaming.stream(counted, { onError: (e, recoverable) => hooks.onError(e, recoverable) }).pipe(
      tap({
        next: (a) => {
          if (firstAudioAt === null) {
            firstAudioAt = performance.now();
            const textAt = firstTextAt ?? startedAt;
            hooks.onFirstAudio?.({ firstTextAt: textAt, ttfbMs: firstAudioAt - textAt });
          }
          requestId ||= a.requestId ?? '';
          audioMs += a.frame.durationMs;
        },
        complete: () => (completed = true),
        error: (e: unknown) => hooks.onError(e instanceof Error ? e : new Error(String(e)), false),
      }),
      finalize(() => {
        if (chars === 0 && audioMs === 0) return;
        hooks.onMetrics({
          type: 'tts_metrics',
          label: tts.label,
          requestId,
          timestamp: Date.now(),
          ttfbMs: firstAudioAt === null ? -1 : firstAudioAt - (firstTextAt ?? startedAt),
          durationMs: performance.now() - startedAt,
          audioDurationMs: audioMs,
          charactersCount: chars,
          cancelled: !completed,
          streamed: tts.capabilities.streaming,
          speechId: hooks.speechId,
        });
      }),
    );
  });
}
