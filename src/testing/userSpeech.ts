import { Observable } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import type { SpeechEvent, STT, STTCapabilities, VAD, VADEvent } from '../providers/types.ts';

/** One scripted utterance. Times are ms from the moment recognition starts listening (session start). */
export interface ScriptedUtterance {
  start: number;
  end: number;
  /** Final transcript; empty or omitted: the STT hears nothing (noise, a cough). */
  transcript?: string;
  /** ms after `end` at which the final transcript arrives. */
  sttDelay?: number;
  /** Interim transcripts: `at` is ms from `start`. */
  interims?: Array<{ at: number; text: string }>;
}

/** What the fakes are told: an utterance began, or it ended (with what the STT will hear). */
export type SpeechSignal =
  | { kind: 'start'; id: number; at: number; interims: Array<{ at: number; text: string }> }
  | { kind: 'end'; id: number; at: number; transcript: string; sttDelay: number };

/**
 * A timeline of user speech shared by a fake VAD and a fake STT, so both hear the same user. Utterances are
 * scripted up front, added later (`speak`), or driven live (`startSpeaking` / `stopSpeaking`) to script races.
 */
export class UserSpeechScript {
  private readonly signals: SpeechSignal[] = [];
  private readonly listeners = new Set<(s: SpeechSignal) => void>();
  private readonly pending: ScriptedUtterance[] = [];
  private nextId = 1;
  private live: number | null = null;
  /** Utterances whose final transcript some STT has already delivered. */
  private readonly delivered = new Set<number>();
  /** Epoch ms that scripted times count from; set when the first fake starts listening. */
  origin: number | null = null;

  constructor(utterances: ScriptedUtterance[] = []) {
    for (const u of utterances) this.validate(u);
    this.pending.push(...utterances);
  }

  private validate(u: ScriptedUtterance): void {
    if (!(u.end > u.start) || u.start < 0) throw new RangeError(`utterance must have 0 ≤ start < end, got ${u.start}..${u.end}`);
  }

  private schedule(u: ScriptedUtterance): void {
    const id = this.nextId++;
    const origin = this.origin!;
    this.signals.push({ kind: 'start', id, at: origin + u.start, interims: (u.interims ?? []).map((i) => ({ at: origin + u.start + i.at, text: i.text })) });
    this.signals.push({ kind: 'end', id, at: origin + u.end, transcript: u.transcript ?? '', sttDelay: u.sttDelay ?? 0 });
    for (const l of this.listeners) {
      l(this.signals[this.signals.length - 2]!);
      l(this.signals[this.signals.length - 1]!);
    }
  }

  /** Adds an utterance starting `inMs` from now. */
  speak(u: Omit<ScriptedUtterance, 'start' | 'end'> & { inMs?: number; durationMs: number }): void {
    if (this.origin === null) throw new Error('speak() needs a running recognition (start the session first)');
    const start = Date.now() - this.origin + (u.inMs ?? 0);
    const full = { ...u, start, end: start + u.durationMs };
    this.validate(full);
    this.schedule(full);
  }

  /** The user starts talking now and keeps talking until `stopSpeaking`. */
  startSpeaking(): void {
    if (this.live !== null) throw new Error('the user is already speaking');
    const sig: SpeechSignal = { kind: 'start', id: this.nextId++, at: Date.now(), interims: [] };
    this.live = sig.id;
    this.emit(sig);
  }

  /** The user stops now; the STT will hear `transcript` (nothing for a cough) `sttDelay` ms later. */
  stopSpeaking(transcript = '', sttDelay = 0): void {
    if (this.live === null) throw new Error('the user is not speaking');
    const sig: SpeechSignal = { kind: 'end', id: this.live, at: Date.now(), transcript, sttDelay };
    this.live = null;
    this.emit(sig);
  }

  private emit(sig: SpeechSignal): void {
    this.signals.push(sig);
    for (const l of this.listeners) l(sig);
  }

  /** How many fakes are listening (0 once every stream was unsubscribed). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** @internal an STT delivered this utterance's final transcript (no later listener hears it again) */
  markDelivered(id: number): void {
    this.delivered.add(id);
  }

  /** @internal whether an STT already delivered this utterance's final transcript */
  wasDelivered(id: number): boolean {
    return this.delivered.has(id);
  }

  /**
   * @internal registers a consumer and replays what is already known to it. A listener attached later (a new
   * agent) must not hear the past: a VAD hears utterances not over yet; an STT also hears a final transcript that is
   * still owed (due now or later and not delivered), whatever the order of a handoff and that transcript in one ms.
   */
  attach(fn: (s: SpeechSignal) => void, role: 'vad' | 'stt' = 'stt'): () => void {
    if (this.origin === null) {
      this.origin = Date.now();
      for (const u of this.pending.splice(0)) this.schedule(u);
    }
    this.listeners.add(fn);
    const now = Date.now();
    const over = new Set(
      this.signals
        .filter((s) => s.kind === 'end' && (role === 'vad' ? s.at < now : this.delivered.has(s.id) || (!s.transcript && s.at + s.sttDelay < now)))
        .map((s) => s.id),
    );
    for (const s of this.signals) if (!over.has(s.id)) fn(s);
    return () => this.listeners.delete(fn);
  }
}

/** Schedules callbacks at absolute epoch times; cancels them all on teardown. */
function timers() {
  const ids = new Set<ReturnType<typeof setTimeout>>();
  return {
    at(time: number, fn: () => void) {
      const id = setTimeout(() => {
        ids.delete(id);
        fn();
      }, Math.max(0, time - Date.now()));
      ids.add(id);
    },
    clear() {
      for (const id of ids) clearTimeout(id);
      ids.clear();
    },
  };
}

export interface FakeVADOptions {
  /** Speech needed before start_of_speech fires (the event is back-dated by it). */
  minSpeechDuration?: number;
  /** Silence needed before end_of_speech fires (the event is back-dated by it). */
  minSilenceDuration?: number;
  /** Period of inference_done events while the user speaks. */
  inferenceInterval?: number;
}

/** A VAD that hears the script instead of the audio. */
export class FakeVAD implements VAD {
  readonly label = 'fake-vad';
  constructor(
    readonly script: UserSpeechScript,
    readonly opts: FakeVADOptions = {},
  ) {}

  stream(_audio: Observable<AudioFrame>): Observable<VADEvent> {
    return new Observable<VADEvent>((sub) => {
      const t = timers();
      const minSpeech = this.opts.minSpeechDuration ?? 50;
      const minSilence = this.opts.minSilenceDuration ?? 250;
      const interval = this.opts.inferenceInterval ?? 50;
      const base = { inferenceDuration: 0, probability: 1 };
      const open = new Map<number, { start: number; sosAt: number; tick: ReturnType<typeof setInterval> | null }>();
      const detach = this.script.attach((sig) => {
        if (sig.kind === 'start') {
          const u = { start: sig.at, sosAt: sig.at + minSpeech, tick: null as ReturnType<typeof setInterval> | null };
          open.set(sig.id, u);
          t.at(u.sosAt, () => {
            if (!open.has(sig.id)) return;
            sub.next({ ...base, type: 'start_of_speech', timestamp: u.sosAt, speechDuration: minSpeech, silenceDuration: 0, speaking: true });
            u.tick = setInterval(() => {
              sub.next({ ...base, type: 'inference_done', timestamp: Date.now(), speechDuration: Date.now() - u.start, silenceDuration: 0, speaking: true });
            }, interval);
          });
        } else {
          const u = open.get(sig.id);
          if (!u) return;
          t.at(sig.at, () => {
            open.delete(sig.id);
            if (u.tick) clearInterval(u.tick);
            // A blip shorter than minSpeechDuration never became speech.
            if (sig.at < u.sosAt) return;
            t.at(sig.at + minSilence, () =>
              sub.next({ ...base, type: 'end_of_speech', probability: 0, timestamp: sig.at + minSilence, speechDuration: sig.at - u.start, silenceDuration: minSilence, speaking: false }),
            );
          });
        }
      }, 'vad');
      const stopTicks = () => {
        for (const u of open.values()) if (u.tick) clearInterval(u.tick);
      };
      return () => {
        detach();
        stopTicks();
        t.clear();
      };
    });
  }
}

/** A streaming STT that hears the script: interim transcripts, then the final one `sttDelay` after speech ends. */
export class FakeSTT implements STT {
  readonly label = 'fake-stt';
  readonly capabilities: STTCapabilities = { streaming: true, interimResults: true };
  constructor(readonly script: UserSpeechScript) {}

  stream(_audio: Observable<AudioFrame>): Observable<SpeechEvent> {
    return new Observable<SpeechEvent>((sub) => {
      const t = timers();
      const detach = this.script.attach((sig) => {
        if (sig.kind === 'start') {
          t.at(sig.at, () => sub.next({ type: 'start_of_speech' }));
          for (const i of sig.interims) t.at(i.at, () => sub.next({ type: 'interim_transcript', alternatives: [{ text: i.text, confidence: 0.5 }] }));
        } else {
          t.at(sig.at, () => sub.next({ type: 'end_of_speech' }));
          const text = sig.transcript;
          if (text) {
            t.at(sig.at + sig.sttDelay, () => {
              if (this.script.wasDelivered(sig.id)) return;
              this.script.markDelivered(sig.id);
              sub.next({ type: 'final_transcript', alternatives: [{ text, confidence: 0.9, language: 'en' }] });
            });
          }
        }
      });
      return () => {
        detach();
        t.clear();
      };
    });
  }
}
