/** Background audio without a session: the mix (sum, gain, clipping, loops), clips and their loading, the choice, the machine. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { backgroundAudioMachine } from '../machines/backgroundAudio.ts';
import { AudioFormatError, AudioFrame } from '../src/audio/frame.ts';
import { encodeWav } from '../src/audio/wav.ts';
import { BackgroundMix, BuiltinAudioClip, chooseSound, clip16, loadClip, type Clip, type MixVoice } from '../src/audio/background/index.ts';
import { soundConfigs } from '../src/audio/background/clipSource.ts';
import { builtinClip } from '../src/audio/background/builtinClips.ts';

const clipOf = (values: number[], rate = 1000): Clip => ({ samples: Int16Array.from(values), sampleRate: rate });
const voice = (clip: Clip, o: Partial<MixVoice> = {}): MixVoice & { ended: number } => {
  const v = { clip, gain: 1, loop: false, position: 0, ended: 0, onEnd: () => void v.ended++, ...o };
  return v;
};
const frame = (values: number[], rate = 1000, channels = 1) => new AudioFrame(Int16Array.from(values), rate, channels, values.length / channels);

describe('BackgroundMix', () => {
  it('adds every voice at its gain to the agent frame', () => {
    const mix = new BackgroundMix(1000);
    mix.add(voice(clipOf([1000, 1000, 1000, 1000]), { gain: 0.5 }));
    mix.add(voice(clipOf([-200, 200, -200, 200]), { gain: 1 }));
    expect([...mix.mixInto(frame([10, 20, 30, 40])).data]).toEqual([10 + 500 - 200, 20 + 500 + 200, 30 + 500 - 200, 40 + 500 + 200]);
  });

  it('clips to the 16-bit range instead of wrapping around', () => {
    const mix = new BackgroundMix(1000);
    mix.add(voice(clipOf([3000, -3000, 3000]), { gain: 1, loop: true }));
    expect([...mix.mixInto(frame([32000, -32000, 100])).data]).toEqual([32767, -32768, 3100]);
    expect([clip16(40000.4), clip16(-40000), clip16(1.5), clip16(-1.4)]).toEqual([32767, -32768, 2, -1]);
  });

  it('a looping clip continues without a gap however the frames are cut', () => {
    const ramp = Array.from({ length: 50 }, (_, i) => i * 10);
    const mix = new BackgroundMix(1000);
    mix.add(voice(clipOf(ramp), { loop: true }));
    const out: number[] = [];
    for (const n of [7, 33, 1, 120, 49, 50]) out.push(...(n % 2 ? mix.render(n).data : mix.mixInto(frame(new Array(n).fill(0))).data));
    expect(out).toEqual(Array.from({ length: out.length }, (_, i) => ramp[i % 50]));
  });

  it('a clip played once ends (onEnd once), and the mix falls silent', () => {
    const mix = new BackgroundMix(1000);
    const v = voice(clipOf([5, 6, 7]));
    mix.add(v);
    expect([...mix.render(2).data]).toEqual([5, 6]);
    expect([...mix.render(3).data]).toEqual([7, 0, 0]);
    expect(v.ended).toBe(1);
    expect(mix.audible).toBe(false);
    const f = frame([1, 2]);
    expect(mix.mixInto(f)).toBe(f);
  });

  it('volume 0: the agent frame comes back untouched (the same object) while the loop still advances', () => {
    const mix = new BackgroundMix(1000);
    const v = voice(clipOf([100, 200, 300, 400]), { gain: 0, loop: true });
    mix.add(v);
    const f = frame([1, -2, 3]);
    expect(mix.mixInto(f)).toBe(f);
    expect(v.position).toBe(3);
  });

  it('stereo agent frames get the (mono) background on both channels; another rate is not mixed', () => {
    const mix = new BackgroundMix(1000);
    mix.add(voice(clipOf([10, 20]), { loop: true }));
    expect([...mix.mixInto(frame([1, 2, 3, 4], 1000, 2)).data]).toEqual([11, 12, 23, 24]);
    const other = frame([0, 0, 0, 0], 2000);
    expect(mix.mixInto(other)).toBe(other);
  });

  it('clear() ends every voice', () => {
    const mix = new BackgroundMix(1000);
    const a = voice(clipOf([1]), { loop: true });
    const b = voice(clipOf([1]));
    mix.add(a);
    mix.add(b);
    mix.clear();
    expect([a.ended, b.ended, mix.audible]).toEqual([1, 1, false]);
  });
});

describe('built-in clips', () => {
  const rms = (c: Clip) => Math.sqrt(c.samples.reduce((s, x) => s + x * x, 0) / c.samples.length);
  it.each(Object.values(BuiltinAudioClip))('%s: synthesised the same every time, audible, quiet, at the rate asked', (name) => {
    const a = builtinClip(name, 16000);
    expect(a.sampleRate).toBe(16000);
    expect(a.samples.length % 16000).toBe(0);
    expect([...a.samples.subarray(0, 2000)]).toEqual([...builtinClip(name, 16000).samples.subarray(0, 2000)]);
    expect(rms(a)).toBeGreaterThan(100); // not silence
    expect(rms(a)).toBeLessThan(4000); // a background, not a voice (-18 dBFS)
    expect(builtinClip(name, 48000).samples.length).toBe(a.samples.length * 3);
  });

  it('the ambience loops without a seam: the jump from its end to its start is an ordinary step', () => {
    const { samples } = builtinClip(BuiltinAudioClip.OFFICE_AMBIENCE, 24000);
    let maxStep = 0;
    for (let i = 1; i < samples.length; i++) maxStep = Math.max(maxStep, Math.abs(samples[i]! - samples[i - 1]!));
    expect(Math.abs(samples[0]! - samples[samples.length - 1]!)).toBeLessThanOrEqual(maxStep);
  });
});

describe('sound specs and the choice', () => {
  it('a list with probabilities: each its own share, the rest is silence', () => {
    const list = soundConfigs([{ source: 'a.wav', probability: 0.25 }, { source: 'b.wav', probability: 0.5 }], 'thinkingSound');
    expect([0, 0.24, 0.25, 0.74, 0.75, 0.99].map((r) => chooseSound(list, r)?.source ?? null)).toEqual(['a.wav', 'a.wav', 'b.wav', 'b.wav', null, null]);
  });

  it('a list without probabilities: an equal choice', () => {
    const list = soundConfigs([{ source: 'a' }, { source: 'b' }, { source: 'c' }], 'x');
    expect([0, 0.34, 0.67, 0.999].map((r) => chooseSound(list, r)!.source)).toEqual(['a', 'b', 'c', 'c']);
  });

  it('bad volumes, probabilities and lists are TypeErrors that say what is wrong', () => {
    expect(() => soundConfigs({ source: 'a', volume: -1 }, 'ambientSound')).toThrow(/ambientSound: volume must be a number from 0 to 4, got -1/);
    expect(() => soundConfigs({ source: 'a', volume: Number.NaN }, 'ambientSound')).toThrow(TypeError);
    expect(() => soundConfigs([{ source: 'a', probability: 0.7 }, { source: 'b', probability: 0.6 }], 'thinkingSound')).toThrow(/add up to 1.3/);
    expect(() => soundConfigs([], 'thinkingSound')).toThrow(/empty list/);
    expect(() => soundConfigs([{} as never], 'play')).toThrow(/needs a source/);
  });
});

describe('loadClip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgaudio-'));
  const tone = (rate: number, n: number, channels = 1) =>
    new AudioFrame(Int16Array.from({ length: n * channels }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * Math.floor(i / channels)) / rate))), rate, channels, n);

  it('a WAV at the mix rate is taken sample for sample; stereo is averaged to mono', async () => {
    const mono = tone(24000, 2400);
    expect([...(await loadClip(encodeWav([mono]), 24000)).samples]).toEqual([...mono.data]);
    const stereo = new AudioFrame(Int16Array.from([100, 300, -50, 50]), 24000, 2, 2);
    expect([...(await loadClip(encodeWav([stereo]), 24000)).samples]).toEqual([200, 0]);
  });

  it('a WAV at another rate is resampled to the mix rate', async () => {
    const path = join(dir, 'tone16k.wav');
    writeFileSync(path, encodeWav([tone(16000, 16000)]));
    const clip = await loadClip(path, 24000);
    expect(clip.sampleRate).toBe(24000);
    expect(Math.abs(clip.samples.length - 24000)).toBeLessThan(100);
  });

  it('bad input: a clear AudioFormatError naming the clip', async () => {
    await expect(loadClip(new TextEncoder().encode('this is not audio at all'), 24000)).rejects.toThrow(/background audio clip WAV bytes \(24 B\): not a WAV file/);
    await expect(loadClip(join(dir, 'missing.wav'), 24000)).rejects.toThrow(AudioFormatError);
    await expect(loadClip(join(dir, 'missing.wav'), 24000)).rejects.toThrow(/missing\.wav/);
    await expect(loadClip(encodeWav([]), 24000)).rejects.toThrow(/holds no audio/);
    await expect(loadClip('builtin:nope', 24000)).rejects.toThrow(/unknown built-in clip builtin:nope/);
  });
});

describe('backgroundAudio machine', () => {
  function run() {
    const log: string[] = [];
    const names = [
      'attachOutput', 'startAmbient', 'startThinking', 'stopThinking', 'stopAllSounds', 'pushBackground', 'passAgentFrames',
      'dropAgentFrames', 'flushDevice', 'clearDevice', 'forwardStarted', 'forwardFinished', 'reportAgentCleared',
    ] as const;
    const actions = Object.fromEntries(names.map((n) => [n, () => void log.push(n)]));
    const actor = createActor(backgroundAudioMachine.provide({ actions })).start();
    const take = () => log.splice(0);
    return { actor, take };
  }

  it('takes the output over only when no agent audio can be in flight', () => {
    const { actor, take } = run();
    actor.send({ type: 'START', agentState: 'speaking', outputIdle: false });
    expect(actor.getSnapshot().value).toBe('attaching');
    actor.send({ type: 'AGENT_STATE', agentState: 'thinking', outputIdle: false });
    expect(take()).toEqual([]);
    actor.send({ type: 'AGENT_STATE', agentState: 'listening', outputIdle: true });
    expect(take()).toEqual(['attachOutput', 'startAmbient']);
    expect(actor.getSnapshot().matches({ active: { sound: 'calm', output: 'silent' } })).toBe(true);
  });

  it('thinking sound: on thinking; off on speaking, listening, or the first agent frame; again on the next thinking', () => {
    const { actor, take } = run();
    actor.send({ type: 'START', agentState: 'thinking', outputIdle: true });
    expect(take()).toEqual(['attachOutput', 'startAmbient', 'startThinking']);
    actor.send({ type: 'AGENT_FRAME' });
    expect(take()).toEqual(['stopThinking', 'passAgentFrames']);
    actor.send({ type: 'AGENT_STATE', agentState: 'speaking', outputIdle: false });
    actor.send({ type: 'AGENT_STATE', agentState: 'thinking', outputIdle: false });
    expect(take()).toEqual(['startThinking']);
    actor.send({ type: 'AGENT_STATE', agentState: 'listening', outputIdle: true });
    expect(take()).toEqual(['stopThinking']);
    actor.send({ type: 'AGENT_STATE', agentState: 'speaking', outputIdle: false });
    expect(take()).toEqual([]);
  });

  it('output: background between segments, flushed and waited for when the agent arrives, then the device is the agent’s', () => {
    const { actor, take } = run();
    actor.send({ type: 'START', agentState: 'listening', outputIdle: true });
    take();
    actor.send({ type: 'TICK', audible: false });
    expect(take()).toEqual([]);
    actor.send({ type: 'TICK', audible: true });
    actor.send({ type: 'TICK', audible: true });
    actor.send({ type: 'DEVICE_STARTED' });
    expect(take()).toEqual(['pushBackground', 'pushBackground']); // the background's own start is not forwarded
    actor.send({ type: 'AGENT_FRAME' });
    actor.send({ type: 'AGENT_FRAME' });
    actor.send({ type: 'TICK', audible: true });
    actor.send({ type: 'AGENT_FLUSH' });
    expect(take()).toEqual(['flushDevice']); // held: no frames, no pump, the agent's flush is kept
    actor.send({ type: 'DEVICE_FINISHED' });
    expect(take()).toEqual(['passAgentFrames', 'flushDevice']);
    actor.send({ type: 'DEVICE_STARTED' });
    actor.send({ type: 'DEVICE_FINISHED' });
    expect(take()).toEqual(['forwardStarted', 'forwardFinished']);
    actor.send({ type: 'TICK', audible: true });
    actor.send({ type: 'TICK', audible: false });
    expect(take()).toEqual(['pushBackground', 'flushDevice']);
    expect(actor.getSnapshot().matches({ active: { output: 'draining' } })).toBe(true);
  });

  it('an agent segment cleared while held ends here, interrupted; one cleared on the device is cleared there', () => {
    const { actor, take } = run();
    actor.send({ type: 'START', agentState: 'listening', outputIdle: true });
    actor.send({ type: 'TICK', audible: true });
    actor.send({ type: 'AGENT_FRAME' });
    take();
    actor.send({ type: 'AGENT_CLEAR' });
    expect(take()).toEqual(['dropAgentFrames', 'reportAgentCleared']);
    actor.send({ type: 'DEVICE_FINISHED' });
    expect(take()).toEqual([]); // the background's finish, swallowed
    actor.send({ type: 'AGENT_FRAME' });
    actor.send({ type: 'AGENT_CLEAR' });
    expect(take()).toEqual(['passAgentFrames', 'clearDevice']);
  });

  it('CLOSE silences the sounds and clears the background segment, but the output keeps routing the agent', () => {
    const { actor, take } = run();
    actor.send({ type: 'START', agentState: 'listening', outputIdle: true });
    actor.send({ type: 'TICK', audible: true });
    take();
    actor.send({ type: 'CLOSE' });
    expect(take().sort()).toEqual(['clearDevice', 'stopAllSounds']);
    actor.send({ type: 'DEVICE_FINISHED' });
    actor.send({ type: 'AGENT_FRAME' });
    expect(take()).toEqual(['passAgentFrames']);
    expect(actor.getSnapshot().matches({ active: { sound: 'stopped', output: 'agent' } })).toBe(true);
  });

  it('CLOSE before the take-over: closed, nothing attached', () => {
    const { actor, take } = run();
    actor.send({ type: 'START', agentState: 'speaking', outputIdle: false });
    actor.send({ type: 'CLOSE' });
    expect(take()).toEqual(['stopAllSounds']);
    expect(actor.getSnapshot().status).toBe('done');
  });
});
