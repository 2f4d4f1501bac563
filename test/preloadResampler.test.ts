/** prepareAudioOutput loads the resampler in the background only when the output's rate differs from the TTS's. */
import { describe, expect, it } from 'vitest';
import { speexIfLoaded } from '../src/audio/speex.ts';
import { prepareAudioOutput } from '../src/session/outputFormat.ts';
import { FakeAudioOutput } from '../src/testing/index.ts';

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
};

describe('prepareAudioOutput', () => {
  it('loads nothing when the rates match or the output names none, and starts loading when they differ', async () => {
    prepareAudioOutput(new FakeAudioOutput({ sampleRate: 24000 }), 24000);
    prepareAudioOutput(new FakeAudioOutput(), 24000);
    prepareAudioOutput(null, 24000);
    expect(await until(() => speexIfLoaded() !== null, 300)).toBe(false);

    prepareAudioOutput(new FakeAudioOutput({ sampleRate: 48000 }), 24000);
    expect(await until(() => speexIfLoaded() !== null, 5000)).toBe(true);
  });
});
