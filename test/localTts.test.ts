import { execSync } from 'node:child_process';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { EspeakTTS } from '../src/plugins/espeak/index.ts';
import { FliteTTS, sanitizeForFlite, shutdownFlite } from '../src/plugins/flite/index.ts';
import type { SynthesizedAudio, TTS } from '../src/providers/types.ts';

const SENTENCE = 'The quick brown fox jumps over the lazy dog near the river bank.';
const collect = (tts: TTS, text: string) => lastValueFrom(tts.synthesize(text).pipe(toArray()), { defaultValue: [] as SynthesizedAudio[] });
const durationMs = (a: SynthesizedAudio[]) => a.reduce((s, f) => s + f.frame.durationMs, 0);
const rms = (a: SynthesizedAudio[]) => {
  let sum = 0;
  let n = 0;
  for (const f of a) for (const s of f.frame.data) (sum += s * s), n++;
  return Math.sqrt(sum / Math.max(1, n));
};

// Leave no synthesis running in the worker thread when this file's process exits.
afterAll(() => shutdownFlite());

describe('FliteTTS (in-process, WASI worker)', () => {
  it('speaks a sentence: audible 16 kHz audio of plausible length, last frame final', async () => {
    const out = await collect(new FliteTTS(), SENTENCE);
    expect(out[0]!.frame.sampleRate).toBe(16000);
    expect(durationMs(out)).toBeGreaterThan(2000);
    expect(durationMs(out)).toBeLessThan(8000);
    expect(rms(out)).toBeGreaterThan(300);
    expect(out.filter((f) => f.final)).toHaveLength(1);
    expect(out.at(-1)!.final).toBe(true);
  });

  it('more text gives more audio; other voices have their own rate', async () => {
    const short = await collect(new FliteTTS(), 'Hello.');
    const long = await collect(new FliteTTS(), `${SENTENCE} ${SENTENCE}`);
    expect(durationMs(long)).toBeGreaterThan(durationMs(short) * 3);
    const kal = await collect(new FliteTTS({ voice: 'kal' }), 'Hello there.');
    expect(kal[0]!.frame.sampleRate).toBe(8000);
  });

  it('empty text completes without audio; unknown voices fail clearly; long text is split safely', async () => {
    expect(await collect(new FliteTTS(), '  \n ')).toEqual([]);
    expect(() => new FliteTTS({ voice: 'nope' as never })).toThrow(/unknown flite voice "nope"/);
    const parts = sanitizeForFlite(`${'word '.repeat(500)}\u0000end`);
    expect(parts.length).toBe(3);
    expect(parts.every((p) => p.length <= 1000 && !/[\u0000-\u001f]/.test(p))).toBe(true);
  });

  it('unsubscribing stops the emission', async () => {
    const got: SynthesizedAudio[] = [];
    const s = new FliteTTS().synthesize(SENTENCE).subscribe((a) => got.push(a));
    s.unsubscribe();
    await new Promise((r) => setTimeout(r, 800)); // longer than the synthesis takes
    expect(got).toEqual([]);
  });

  it('shutdownFlite stops the worker; the next synthesis starts a fresh one', async () => {
    await shutdownFlite();
    const out = await collect(new FliteTTS(), 'Back again.');
    expect(durationMs(out)).toBeGreaterThan(300);
  });
});

const hasEspeak = EspeakTTS.isAvailable();
if (!hasEspeak) console.info('skipping espeak-ng tests: the espeak-ng program is not installed (apt-get install espeak-ng)');

describe.skipIf(!hasEspeak)('EspeakTTS (separate process)', () => {
  it('streams audible 22.05 kHz audio of plausible length', async () => {
    const out = await collect(new EspeakTTS(), SENTENCE);
    expect(out[0]!.frame.sampleRate).toBe(22050);
    expect(durationMs(out)).toBeGreaterThan(2000);
    expect(durationMs(out)).toBeLessThan(8000);
    expect(rms(out)).toBeGreaterThan(300);
    expect(out.filter((f) => f.final)).toHaveLength(1);
  });

  it('kills the process on unsubscribe', async () => {
    const count = () => Number(execSync('pgrep -c -x espeak-ng || true').toString().trim() || 0);
    const before = count();
    const s = new EspeakTTS().synthesize(SENTENCE.repeat(40)).subscribe();
    await new Promise((r) => setTimeout(r, 30));
    s.unsubscribe();
    await new Promise((r) => setTimeout(r, 200));
    expect(count()).toBe(before);
  });
});

describe('EspeakTTS without the program', () => {
  it('fails with an install hint', async () => {
    await expect(collect(new EspeakTTS({ binaryPath: '/nonexistent/espeak-ng' }), 'hi')).rejects.toThrow(/not installed: apt-get install espeak-ng/);
  });
});
