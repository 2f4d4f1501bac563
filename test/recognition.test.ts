import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { runRecognition, type RecognitionEvent } from '../actors/recognition.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import type { SpeechEvent, STT, VAD, VADEvent } from '../src/providers/types.ts';
import { STTStreamAdapter } from '../src/stt/streamAdapter.ts';

const frame = (ms: number) => new AudioFrame(new Int16Array(16 * ms), 16000, 1, 16 * ms);
const usageOf = (events: RecognitionEvent[]) => events.filter((e) => e.type === 'stt_usage');

describe('STT usage from recognition', () => {
  it('a streaming STT is charged all the audio sent to it, reported at each final transcript', () => {
    const results = new Subject<SpeechEvent>();
    const stt: STT = { label: 's', capabilities: { streaming: true, interimResults: true }, stream: (audio) => (audio.subscribe(), results) };
    const audio = new Subject<AudioFrame>();
    const events: RecognitionEvent[] = [];
    const sub = runRecognition({ audio, vad: null, stt, deliver: (e) => events.push(e) });
    for (let i = 0; i < 50; i++) audio.next(frame(20)); // 1 s
    results.next({ type: 'interim_transcript', alternatives: [{ text: 'hel' }] });
    expect(usageOf(events)).toEqual([]);
    results.next({ type: 'final_transcript', alternatives: [{ text: 'hello' }] });
    for (let i = 0; i < 10; i++) audio.next(frame(20));
    results.next({ type: 'final_transcript', alternatives: [{ text: 'again' }] });
    expect(usageOf(events)).toEqual([
      { type: 'stt_usage', audioDurationMs: 1000, durationMs: 0, streamed: true },
      { type: 'stt_usage', audioDurationMs: 200, durationMs: 0, streamed: true },
    ]);
    sub.unsubscribe();
  });

  it('a request/response STT behind the VAD adapter is charged only the utterances it was sent', async () => {
    const vadEvents = new Subject<VADEvent>();
    const vad: VAD = { label: 'v', stream: () => vadEvents };
    const inner: STT = {
      label: 'batch',
      capabilities: { streaming: false, interimResults: false },
      stream: () => {
        throw new Error('not streaming');
      },
      recognize: async () => ({ type: 'final_transcript', alternatives: [{ text: 'hi' }] }),
    };
    const audio = new Subject<AudioFrame>();
    const events: RecognitionEvent[] = [];
    const sub = runRecognition({ audio, vad: null, stt: new STTStreamAdapter(inner, vad), deliver: (e) => events.push(e) });
    for (let i = 0; i < 100; i++) audio.next(frame(20)); // 2 s of audio, of which 600 ms is speech
    const speech = Array.from({ length: 30 }, () => frame(20));
    const base = { timestamp: 0, speechDuration: 600, silenceDuration: 0, inferenceDuration: 0, samplesIndex: 0, speaking: false, probability: 0 };
    vadEvents.next({ ...base, type: 'end_of_speech', frames: speech } as VADEvent);
    for (let i = 0; i < 20 && !usageOf(events).length; i++) await new Promise((r) => setTimeout(r, 1));
    const [u] = usageOf(events);
    expect(u).toMatchObject({ type: 'stt_usage', audioDurationMs: 600, streamed: false });
    expect((u as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
    sub.unsubscribe();
  });
});
