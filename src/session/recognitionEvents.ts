import type { RecognitionEvent } from '../../actors/recognition.ts';
import { isAudible, type CurrentSpeechFacts } from '../../machines/activity.ts';
import type { ActivityHost } from './host.ts';
import { countWords, pendingText } from './words.ts';

/** The activity as recognition needs it: its machines, the current speech's facts, and its helpers. */
export interface RecognitionTarget extends ActivityHost {
  userStateAt: number | null;
  facts(): CurrentSpeechFacts | null;
  readonly preemptive: { maybeStart(): void };
}

/** What the user said so far in this turn (finals and the interim), and its word count. */
const pending = (act: RecognitionTarget): { words: number; transcript: string } => {
  const c = act.userTurn.getSnapshot().context;
  const transcript = pendingText(c.transcript, c.interim);
  return { words: countWords(transcript), transcript };
};

/**
 * The AEC warm-up window while the agent is audible: what the STT hears now is mostly the agent's own echo, so its
 * transcripts are not the user's (the reference feeds the STT silence meanwhile). The state is the activity's.
 */
const inEchoWindow = (act: RecognitionTarget): boolean => {
  const snap = act.actor.getSnapshot();
  return snap.matches({ aec: 'warming' }) && isAudible(snap.context);
};

/**
 * Turns recognition output into machine events: the user-turn machine hears speech and transcripts (with their
 * real times), the activity machine hears the facts that interruptions and the floor depend on. Nothing is decided
 * here beyond translating.
 */
export function routeRecognition(act: RecognitionTarget, r: RecognitionEvent): void {
  const session = act.session;
  const now = Date.now();
  if (r.type === 'error') {
    const label = r.source === 'stt' ? (act.stt?.label ?? 'stt') : r.source === 'vad' ? (act.vad?.label ?? 'vad') : 'audio input';
    session._reportError(r.source, label, r.error, r.recoverable);
    return;
  }
  if (r.type === 'stt_usage') {
    const { type: _, ...usage } = r;
    // A final transcript with no audio behind it (nothing was streamed) is no usage to report.
    if (usage.audioDurationMs <= 0 && usage.durationMs <= 0) return;
    session._emit({ type: 'metrics_collected', metrics: { type: 'stt_metrics', label: act.stt?.label ?? 'stt', timestamp: now, ...usage } });
    return;
  }
  if (r.type === 'vad') {
    const ev = r.event;
    if (ev.type === 'start_of_speech') {
      const at = now - ev.speechDuration - ev.inferenceDuration;
      act.userStateAt = at;
      act.userTurn.send({ type: 'VAD_SPEECH_START', at, now });
      act.userStateAt = null;
      act.actor.send({ type: 'USER_SPEECH_START', current: act.facts() });
    } else if (ev.type === 'inference_done') {
      if (ev.speaking) act.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: ev.speechDuration, ...pending(act), current: act.facts() });
    } else {
      const at = now - ev.silenceDuration - ev.inferenceDuration;
      act.userStateAt = at;
      act.userTurn.send({ type: 'VAD_SPEECH_END', at, now });
      act.userStateAt = null;
      act.actor.send({ type: 'USER_SPEECH_END' });
    }
    return;
  }
  const ev = r.event;
  if ((ev.type === 'interim_transcript' || ev.type === 'preflight_transcript' || ev.type === 'final_transcript') && inEchoWindow(act)) return;
  const alt = ev.alternatives?.[0];
  const text = alt?.text ?? '';
  switch (ev.type) {
    case 'interim_transcript':
    case 'preflight_transcript':
      session._emit({ type: 'user_input_transcribed', transcript: text, isFinal: false, language: alt?.language, speakerId: alt?.speakerId });
      act.userTurn.send({ type: 'INTERIM_TRANSCRIPT', text, at: now });
      if (!act.vad && text.trim()) {
        act.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: Number.POSITIVE_INFINITY, ...pending(act), current: act.facts() });
      }
      break;
    case 'final_transcript': {
      if (!text.trim()) break;
      session._emit({ type: 'user_input_transcribed', transcript: text, isFinal: true, language: alt?.language, speakerId: alt?.speakerId });
      act.userTurn.send({ type: 'FINAL_TRANSCRIPT', text, confidence: alt?.confidence, at: now });
      act.actor.send({ type: 'FINAL_TRANSCRIPT', ...pending(act), language: alt?.language, current: act.facts() });
      session._userHeard();
      act.preemptive.maybeStart();
      break;
    }
    case 'start_of_speech':
      if (act.options.turnDetection === 'stt') act.userTurn.send({ type: 'STT_SPEECH_START', at: now });
      // Without a VAD, the STT's own speech events say who holds the floor.
      if (!act.vad) act.actor.send({ type: 'USER_SPEECH_START', current: act.facts() });
      break;
    case 'end_of_speech':
      if (act.options.turnDetection === 'stt') act.userTurn.send({ type: 'STT_SPEECH_END', at: now });
      if (!act.vad) act.actor.send({ type: 'USER_SPEECH_END' });
      break;
  }
}
