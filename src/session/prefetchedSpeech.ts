import { map, ReplaySubject, type Observable } from 'rxjs';
import { synthesizeStream } from '../../actors/ttsInference.ts';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioInput } from '../io/types.ts';
import type { ActivityHost } from './host.ts';
import type { SpeechHandle } from './speechHandle.ts';

/**
 * Preemptive TTS: the speculative reply's text goes to the TTS now, before the turn commits, and its audio waits in
 * a buffer. The buffer is played like pre-synthesised audio once (and only if) the speech is scheduled and
 * authorised, so the reply starts as soon as the turn commits. A speculation that is dropped stops its synthesis.
 */
export function prefetchSpeechAudio(act: ActivityHost, h: SpeechHandle, text$: Observable<string>): AudioInput {
  const session = act.session;
  const tts = act.tts!;
  const buffer = new ReplaySubject<AudioFrame>();
  const sub = synthesizeStream(tts, session._ttsTextTransform(text$), {
    speechId: h.id,
    onMetrics: (m) => session._emit({ type: 'metrics_collected', metrics: m }),
    onError: (e, recoverable) => session._reportError('tts', tts.label, e, recoverable),
  })
    .pipe(map((a) => a.frame))
    .subscribe(buffer);
  const stop = () => sub.unsubscribe();
  void h.whenInterrupted().then(stop);
  void h.waitForPlayout().then(stop, stop);
  return buffer.asObservable();
}
