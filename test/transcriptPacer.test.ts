import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TranscriptPacer } from '../src/session/transcriptPacer.ts';
import { FakeTextOutput } from '../src/testing/index.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('TranscriptPacer', () => {
  it('releases words in step with the audio, pauses with it, and keeps only heard words when cut', async () => {
    const out = new FakeTextOutput();
    const p = new TranscriptPacer(out);
    p.pushText('one two three four');
    p.endText();
    p.pushAudio(4000);
    p.endAudio();
    p.playbackStarted(0);
    await vi.advanceTimersByTimeAsync(1000); // "one" (chars 0..3 of 18 → middle at ~333 ms) is out
    expect(out.chunks.map((c) => c.text).join('')).toBe('one');
    p.pause();
    await vi.advanceTimersByTimeAsync(5000);
    expect(out.chunks.map((c) => c.text).join('')).toBe('one');
    p.resume();
    await vi.advanceTimersByTimeAsync(700);
    expect(out.chunks.map((c) => c.text).join('')).toBe('one two');
    expect(p.finish(true, 1700)).toBe('one two');
    // Late notifications after the cut (a stream finalizing) release nothing more.
    p.endAudio();
    p.pushText(' five');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(out.chunks.map((c) => c.text).join('')).toBe('one two');
    expect(out.segments).toEqual(['one two']);
  });

  it('uses TTS word timings when given', () => {
    const p = new TranscriptPacer(null);
    p.pushText('alpha beta gamma');
    p.endText();
    p.pushAudio(3000, [
      { text: 'alpha', startTime: 0, endTime: 200 },
      { text: 'beta', startTime: 2000, endTime: 2200 },
      { text: 'gamma', startTime: 2800, endTime: 3000 },
    ]);
    p.endAudio();
    expect(p.heardText(1500)).toBe('alpha');
    expect(p.heardText(2150)).toBe('alpha beta');
  });
});
