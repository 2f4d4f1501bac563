/** Zero-latency providers for overhead benchmarks: everything answers synchronously on subscribe. */
import { Observable, Subject } from 'rxjs';
import { AudioFrame } from '../../src/audio/frame.ts';
import type { ChatChunk, LLM, SpeechEvent, STT, SynthesizedAudio, TTS, VAD, VADEvent } from '../../src/providers/types.ts';

export class InstantLLM implements LLM {
  readonly label = 'instant-llm';
  readonly model = 'instant';
  chat(): Observable<ChatChunk> {
    return new Observable((sub) => {
      sub.next({ id: 'c', delta: { content: 'Sure, here is the answer.' } });
      sub.complete();
    });
  }
}

export class InstantTTS implements TTS {
  readonly label = 'instant-tts';
  readonly sampleRate = 24000;
  readonly numChannels = 1;
  readonly capabilities = { streaming: true, alignedTranscript: false };
  constructor(private readonly frames = 50) {}
  synthesize(): Observable<SynthesizedAudio> {
    return new Observable((sub) => {
      const data = new Int16Array(480);
      for (let i = 0; i < this.frames; i++) sub.next({ frame: new AudioFrame(data, 24000, 1, 480), final: i === this.frames - 1 });
      sub.complete();
    });
  }
  stream(text$: Observable<string>): Observable<SynthesizedAudio> {
    return new Observable((sub) => {
      let inner: { unsubscribe(): void } | undefined;
      const s = text$.subscribe({ complete: () => (inner = this.synthesize().subscribe(sub)), error: (e) => sub.error(e) });
      return () => {
        s.unsubscribe();
        inner?.unsubscribe();
      };
    });
  }
}

/** A VAD driven by the benchmark; it consumes (and counts) the real-time input frames like a real one would. */
export class DrivenVAD implements VAD {
  readonly label = 'driven-vad';
  readonly events = new Subject<VADEvent>();
  frames = 0;
  stream(audio: Observable<AudioFrame>): Observable<VADEvent> {
    return new Observable((sub) => {
      const a = audio.subscribe(() => this.frames++);
      const e = this.events.subscribe(sub);
      return () => {
        a.unsubscribe();
        e.unsubscribe();
      };
    });
  }
}

export class DrivenSTT implements STT {
  readonly label = 'driven-stt';
  readonly capabilities = { streaming: true, interimResults: true };
  readonly events = new Subject<SpeechEvent>();
  stream(audio: Observable<AudioFrame>): Observable<SpeechEvent> {
    return new Observable((sub) => {
      const a = audio.subscribe(() => {});
      const e = this.events.subscribe(sub);
      return () => {
        a.unsubscribe();
        e.unsubscribe();
      };
    });
  }
}

export const vadEvent = (type: VADEvent['type'], over: Partial<VADEvent> = {}): VADEvent => ({
  type,
  timestamp: 0,
  speechDuration: 0,
  silenceDuration: 0,
  inferenceDuration: 0,
  speaking: type !== 'end_of_speech',
  probability: type === 'end_of_speech' ? 0 : 1,
  ...over,
});
