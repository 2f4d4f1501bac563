/** The TextOutput knobs a room transcription uses: syncTranscription false and transcriptionSpeedFactor. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TextOutput } from '../../src/io/types.ts';
import { TranscriptPacer } from '../../src/session/transcriptPacer.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

const output = (o: Partial<TextOutput>) => {
  const chunks: string[] = [];
  return { chunks, out: { label: 't', captureText: (t: string) => chunks.push(t), flush: () => chunks.push('|'), ...o } as TextOutput };
};

describe('TranscriptPacer and the output knobs', () => {
  it('an output with syncToPlayout false gets text as it comes, before any audio plays; a cut still keeps only the heard words', async () => {
    const { chunks, out } = output({ syncToPlayout: false });
    const p = new TranscriptPacer(out);
    p.pushText('one two ');
    p.pushText('three four');
    expect(chunks.join('')).toBe('one two three four');
    p.endText();
    p.pushAudio(4000);
    p.endAudio();
    p.playbackStarted(0);
    // Middles of the words by their share of the 4 s of audio: one 333 ms, two 1222 ms, three 2222 ms.
    await vi.advanceTimersByTimeAsync(1300);
    expect(p.finish(true, 1300)).toBe('one two');
  });

  it('speedFactor 2 releases words twice as fast; the heard text at a position does not change', async () => {
    const normal = output({});
    const fast = output({ speedFactor: 2 });
    const a = new TranscriptPacer(normal.out);
    const b = new TranscriptPacer(fast.out);
    for (const p of [a, b]) {
      p.pushText('one two three four');
      p.endText();
      p.pushAudio(4000);
      p.endAudio();
      p.playbackStarted(0);
    }
    await vi.advanceTimersByTimeAsync(1200);
    expect(normal.chunks.join('')).toBe('one');
    expect(fast.chunks.join('')).toBe('one two three');
    expect(a.heardText(1200)).toBe(b.heardText(1200));
  });
});
