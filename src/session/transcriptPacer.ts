import type { TextOutput } from '../io/types.ts';
import type { TimedString } from '../providers/types.ts';

/** Syllables per second of ordinary speech, used until the segment's real audio length is known. */
const STANDARD_SPEECH_RATE = 3.83;

interface Word {
  text: string;
  /** Index of the word's first character in the segment text. */
  start: number;
  /** Index just past the word. */
  end: number;
  /** Syllables of all words before this one plus half of its own: its middle at the standard rate. */
  syllablesToMiddle: number;
}

const syllablesOf = (w: string): number => Math.max(1, (w.toLowerCase().match(/[aeiouy]+/g) ?? []).length);

/**
 * Releases an agent segment's text word by word in step with its audio, and answers "what has been heard at
 * position p" — the text that an interrupted assistant message keeps. Word positions come from TTS word timings
 * when present, else from the text's share of the audio once both are complete, else from a standard speech rate.
 */
export class TranscriptPacer {
  private text = '';
  private words: Word[] = [];
  private syllablesSoFar = 0;
  private scanned = 0;
  private textDone = false;
  private audioMs = 0;
  private audioDone = false;
  /** The audio stream failed: its length says nothing about the text, so word positions use the speech rate. */
  private audioBroken = false;
  private timed: TimedString[] = [];
  private released = 0;
  private releasedChars = 0;
  private startedAt: number | null = null;
  private pausedAt: number | null = null;
  private pausedTotal = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** After `finish`, late text/audio notifications (e.g. a stream's finalize) must not release anything. */
  private finished = false;

  constructor(
    private readonly output: TextOutput | null,
    private readonly now: () => number = Date.now,
  ) {}

  pushText(chunk: string): void {
    this.text += chunk;
    this.scanWords(false);
    // An output that does not want pacing gets the text as it comes; what is *heard* is still computed by position.
    if (this.output?.syncToPlayout === false && !this.finished) this.emitUpTo(this.text.length);
    this.schedule();
  }

  endText(): void {
    this.textDone = true;
    this.scanWords(true);
    this.schedule();
  }

  pushAudio(durationMs: number, timedWords?: TimedString[]): void {
    this.audioMs += durationMs;
    if (timedWords?.length) this.timed.push(...timedWords);
  }

  /** The TTS failed part-way: only words the real audio reached count as heard (estimated at the speech rate). */
  audioFailed(): void {
    this.audioBroken = true;
  }

  endAudio(): void {
    this.audioDone = true;
    this.schedule();
  }

  playbackStarted(at: number): void {
    if (this.startedAt !== null) return;
    this.startedAt = at;
    this.schedule();
  }

  pause(): void {
    if (this.pausedAt === null) this.pausedAt = this.now();
    this.clearTimer();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    this.pausedTotal += this.now() - this.pausedAt;
    this.pausedAt = null;
    this.schedule();
  }

  /** The text heard once `positionMs` of the segment has played: every word whose middle has been reached. */
  heardText(positionMs: number): string {
    return this.text.slice(0, this.heardEnd(positionMs)).trim();
  }

  private heardEnd(positionMs: number): number {
    // Word middles grow with the index: binary search for the first one not yet reached.
    let lo = 0;
    let hi = this.words.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.wordMiddle(mid) <= positionMs) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : this.words[lo - 1]!.end;
  }

  /** Ends the segment; returns the synchronized transcript (all text unless interrupted). */
  finish(interrupted: boolean, positionMs: number): string {
    this.clearTimer();
    this.finished = true;
    this.scanWords(true);
    const end = interrupted ? this.heardEnd(positionMs) : this.text.length;
    this.emitUpTo(end);
    const heard = this.text.slice(0, end).trim();
    this.output?.flush();
    return heard;
  }

  get fullText(): string {
    return this.text;
  }

  private scanWords(final: boolean): void {
    const re = /\S+/g;
    re.lastIndex = this.scanned;
    for (let m = re.exec(this.text); m; m = re.exec(this.text)) {
      const end = m.index + m[0].length;
      // A word touching the end of the buffer may continue in the next chunk.
      if (!final && end === this.text.length) break;
      const syl = syllablesOf(m[0]);
      this.words.push({ text: m[0], start: m.index, end, syllablesToMiddle: this.syllablesSoFar + syl / 2 });
      this.syllablesSoFar += syl;
      this.scanned = end;
    }
  }

  /** When a word is released: its middle, sooner or later by the output's speed factor. */
  private releaseAt(i: number): number {
    return this.wordMiddle(i) / (this.output?.speedFactor ?? 1);
  }

  private wordMiddle(i: number): number {
    const t = this.timed[i];
    if (t) return (t.startTime + t.endTime) / 2;
    if (this.textDone && this.audioDone && !this.audioBroken && this.audioMs > 0) {
      const total = this.text.trimEnd().length || 1;
      const w = this.words[i]!;
      return ((w.start + w.end) / 2 / total) * this.audioMs;
    }
    return (this.words[i]!.syllablesToMiddle / STANDARD_SPEECH_RATE) * 1000;
  }

  private elapsed(): number {
    if (this.startedAt === null) return -1;
    const pausedNow = this.pausedAt !== null ? this.now() - this.pausedAt : 0;
    return this.now() - this.startedAt - this.pausedTotal - pausedNow;
  }

  private schedule(): void {
    this.clearTimer();
    if (this.finished || !this.output || this.startedAt === null || this.pausedAt !== null) return;
    const elapsed = this.elapsed();
    while (this.released < this.words.length && this.releaseAt(this.released) <= elapsed) this.released++;
    if (this.released > 0) this.emitUpTo(this.words[this.released - 1]!.end);
    if (this.released < this.words.length) {
      const wait = Math.max(1, this.releaseAt(this.released) - elapsed);
      this.timer = setTimeout(() => this.schedule(), wait);
    }
  }

  private emitUpTo(chars: number): void {
    if (!this.output || chars <= this.releasedChars) return;
    this.output.captureText(this.text.slice(this.releasedChars, chars));
    this.releasedChars = chars;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
