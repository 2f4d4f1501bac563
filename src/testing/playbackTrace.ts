import { Observable, Subject, type Subscription } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioOutput, PlaybackEvent } from '../io/types.ts';
import type { ProviderCallOptions, SynthesizedAudio, TTS, TTSCapabilities } from '../providers/types.ts';

/** One TTS call as the tracer saw it: the text sent and the audio that came back. */
export interface Synthesis {
  id: number;
  text: string;
  /** ms of audio the TTS produced. */
  producedMs: number;
  state: 'running' | 'completed' | 'failed' | 'cancelled';
  /** ms of this synthesis the output played (set as its segment finishes). */
  playedMs: number;
  /** Claimed by an assistant message (a synthesis backs at most one). */
  claimed: boolean;
}

/** Words for comparisons: whitespace-separated, lower-cased, punctuation and markdown marks dropped. */
export function comparableWords(text: string): string[] {
  const out: string[] = [];
  for (const w of text.split(/\s+/)) {
    const n = w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '');
    if (n) out.push(n);
  }
  return out;
}

/**
 * The rule the monitor checks for "nothing unheard in history": a synthesis spreads its text over its audio at a
 * constant rate (each word sits at its characters' share of the text) and a word counts as heard once its middle
 * has played. The audio length is what the TTS produced when it completed; when it failed part-way, the length the
 * whole text would have had (`msPerChar` per character, at least what was produced): the missing audio held the
 * missing words. This is the same rule the session's transcript pacer applies to complete syntheses.
 */
export function heardWordCount(s: Pick<Synthesis, 'text' | 'producedMs' | 'state'>, playedMs: number, msPerChar: number): number {
  const text = s.text.trimEnd();
  const total = text.length || 1;
  const fullMs = s.state === 'completed' ? s.producedMs : Math.max(s.producedMs, total * msPerChar);
  let heard = 0;
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!comparableWords(m[0]).length) continue;
    const middle = ((m.index + m.index + m[0].length) / 2 / total) * fullMs;
    if (middle > playedMs + 0.5) break;
    heard++;
  }
  return heard;
}

/**
 * Wraps a TTS to record every synthesis (its text and produced audio) and which synthesis each audio frame came
 * from, so a {@link MonitoredAudioOutput} can tell speeches apart and map played time to words.
 */
export class TracedTTS implements TTS {
  readonly syntheses: Synthesis[] = [];
  private readonly owners = new WeakMap<AudioFrame, Synthesis>();
  readonly msPerChar: number;

  constructor(
    readonly inner: TTS,
    opts: { msPerChar?: number } = {},
  ) {
    this.msPerChar = opts.msPerChar ?? 60;
    if (inner.stream) this.stream = (text$, o) => this.trace((s) => inner.stream!(this.recordText(text$, s), o));
  }
  get label(): string {
    return this.inner.label;
  }
  get sampleRate(): number {
    return this.inner.sampleRate;
  }
  get numChannels(): number {
    return this.inner.numChannels;
  }
  get capabilities(): TTSCapabilities {
    return this.inner.capabilities;
  }

  stream?: (text: Observable<string>, opts?: ProviderCallOptions) => Observable<SynthesizedAudio>;

  synthesize(text: string, opts?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return this.trace((s) => ((s.text = text), this.inner.synthesize(text, opts)));
  }

  /** The synthesis a frame came from (undefined for frames the session made itself, e.g. after resampling). */
  ownerOf(frame: AudioFrame): Synthesis | undefined {
    return this.owners.get(frame);
  }

  private recordText(text$: Observable<string>, s: Synthesis): Observable<string> {
    return new Observable<string>((sub) => text$.subscribe({ next: (t) => ((s.text += t), sub.next(t)), error: (e) => sub.error(e), complete: () => sub.complete() }));
  }

  private trace(call: (s: Synthesis) => Observable<SynthesizedAudio>): Observable<SynthesizedAudio> {
    return new Observable<SynthesizedAudio>((sub) => {
      const s: Synthesis = { id: this.syntheses.length + 1, text: '', producedMs: 0, state: 'running', playedMs: 0, claimed: false };
      this.syntheses.push(s);
      const inner = call(s).subscribe({
        next: (a) => {
          s.producedMs += a.frame.durationMs;
          this.owners.set(a.frame, s);
          sub.next(a);
        },
        error: (e) => ((s.state = 'failed'), sub.error(e)),
        complete: () => ((s.state = 'completed'), sub.complete()),
      });
      return () => {
        if (s.state === 'running') s.state = 'cancelled';
        inner.unsubscribe();
      };
    });
  }
}

/** What the monitor learns from the output, in order. */
export type OutputObservation =
  | { kind: 'frame'; owner: Synthesis | undefined; newSegment: boolean }
  | { kind: 'audible' }
  | { kind: 'flush' | 'clear' | 'pause' | 'resume' | 'device_started' }
  | { kind: 'finished'; playedMs: number; interrupted: boolean };

interface OpenSegment {
  owners: Array<{ s: Synthesis | undefined; pushedMs: number }>;
  pushedMs: number;
  flushed: boolean;
  cleared: boolean;
  audible: boolean;
}

/**
 * An AudioOutput in front of the real one that tells the monitor what is pushed and played: segments, their
 * owners, pause state. `audible` means a segment holds frames and the output is not paused.
 */
export class MonitoredAudioOutput implements AudioOutput {
  readonly events$ = new Subject<PlaybackEvent>();
  segment: OpenSegment | null = null;
  paused = false;
  private readonly sub: Subscription;
  /** Called before (`before: true`) and after each change. */
  observe: (o: OutputObservation, before: boolean) => void = () => {};

  constructor(
    readonly inner: AudioOutput,
    private readonly tts?: TracedTTS,
  ) {
    this.sub = inner.events$.subscribe((ev) => {
      if (ev.type === 'playback_started') this.observe({ kind: 'device_started' }, false);
      else this.finishSegment(ev.playbackPosition, ev.interrupted);
      this.events$.next(ev);
    });
  }
  get label(): string {
    return `monitored(${this.inner.label})`;
  }
  get sampleRate(): number | undefined {
    return this.inner.sampleRate;
  }
  get canPause(): boolean {
    return this.inner.canPause;
  }
  get audible(): boolean {
    return this.segment !== null && !this.paused && !this.segment.cleared;
  }

  captureFrame(frame: AudioFrame): void {
    const owner = this.tts?.ownerOf(frame);
    const newSegment = this.segment === null;
    this.observe({ kind: 'frame', owner, newSegment }, true);
    const seg = (this.segment ??= { owners: [], pushedMs: 0, flushed: false, cleared: false, audible: false });
    const last = seg.owners[seg.owners.length - 1];
    if (last && last.s === owner) last.pushedMs += frame.durationMs;
    else seg.owners.push({ s: owner, pushedMs: frame.durationMs });
    seg.pushedMs += frame.durationMs;
    this.inner.captureFrame(frame);
    this.becameAudible();
  }
  flush(): void {
    if (this.segment) this.segment.flushed = true;
    this.observe({ kind: 'flush' }, false);
    this.inner.flush();
  }
  clearBuffer(): void {
    this.observe({ kind: 'clear' }, true);
    if (this.segment) this.segment.cleared = true;
    this.inner.clearBuffer();
  }
  pause(): void {
    this.observe({ kind: 'pause' }, true);
    this.inner.pause();
    this.paused = true;
    this.observe({ kind: 'pause' }, false);
  }
  resume(): void {
    this.observe({ kind: 'resume' }, true);
    this.inner.resume();
    this.paused = false;
    this.becameAudible();
    this.observe({ kind: 'resume' }, false);
  }
  close(): void {
    this.inner.close?.();
  }

  /** Position of the open segment, when the device can tell (FakeAudioOutput can). */
  position(): number {
    const p = (this.inner as { position?: () => number }).position;
    return typeof p === 'function' ? p.call(this.inner) : 0;
  }

  /** Whether anyone (the session) still listens to this output's playback events. */
  get listened(): boolean {
    return this.events$.observed;
  }

  /** Stops following the device. */
  detach(): void {
    this.sub.unsubscribe();
  }

  private becameAudible(): void {
    const seg = this.segment;
    if (!seg || seg.audible || !this.audible) return;
    seg.audible = true;
    this.observe({ kind: 'audible' }, false);
  }

  private finishSegment(playedMs: number, interrupted: boolean): void {
    const seg = this.segment;
    this.observe({ kind: 'finished', playedMs, interrupted }, true);
    this.segment = null;
    if (!seg) return;
    // Played time goes to the segment's owners in the order their audio was pushed.
    let left = playedMs;
    for (const o of seg.owners) {
      const part = Math.min(left, o.pushedMs);
      if (o.s) o.s.playedMs += part;
      left -= part;
    }
    this.observe({ kind: 'finished', playedMs, interrupted }, false);
  }
}
