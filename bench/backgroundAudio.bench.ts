/**
 * Cost of background audio per second of agent audio: the mix alone (adding one or two looping voices to 20 ms
 * agent frames, and rendering the background on its own), and the whole path the session's frames take (the
 * mixing output and the `backgroundAudio` actor in front of a device that discards them). CPU time, median of 5
 * runs over 10 s of audio.
 */
import { Subject } from 'rxjs';
import { AgentSession } from '../src/session/agentSession.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import type { AudioOutput, PlaybackEvent } from '../src/io/types.ts';
import { BackgroundAudioPlayer, BackgroundMix, BuiltinAudioClip, type Clip } from '../src/audio/background/index.ts';
import { builtinClip } from '../src/audio/background/builtinClips.ts';
import { percentile, round } from './lib/stats.ts';

const SECONDS = 10;

function speech(rate: number): AudioFrame[] {
  const per = rate / 50;
  return Array.from({ length: SECONDS * 50 }, (_, k) => {
    const d = new Int16Array(per);
    for (let i = 0; i < per; i++) d[i] = Math.round(9000 * Math.sin((2 * Math.PI * 180 * (k * per + i)) / rate));
    return new AudioFrame(d, rate, 1, per);
  });
}

/** CPU ms (user + system) per second of audio, median of 5 runs after a warm-up. */
function cpuMsPerAudioSecond(run: () => void): number {
  run();
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.cpuUsage();
    run();
    const d = process.cpuUsage(t);
    xs.push((d.user + d.system) / 1000 / SECONDS);
  }
  return round(percentile(xs, 50), 4);
}

/** Synthesised once per rate: the runs measure mixing, not the clips' synthesis. */
const clipCache = new Map<number, Clip[]>();
function mixWith(rate: number, voices: number, gain = 0.8): BackgroundMix {
  const mix = new BackgroundMix(rate);
  let clips = clipCache.get(rate);
  if (!clips) clipCache.set(rate, (clips = [builtinClip(BuiltinAudioClip.OFFICE_AMBIENCE, rate), builtinClip(BuiltinAudioClip.KEYBOARD_TYPING, rate)]));
  for (let v = 0; v < voices; v++) mix.add({ clip: clips[v]!, gain, loop: true, position: 0, onEnd: () => {} });
  return mix;
}

/** A device that plays nothing and finishes a segment at its flush. */
class NullOutput implements AudioOutput {
  readonly label = 'null';
  readonly canPause = false;
  readonly events$ = new Subject<PlaybackEvent>();
  private open = false;
  constructor(readonly sampleRate: number) {}
  captureFrame(): void {
    if (!this.open) this.events$.next({ type: 'playback_started', createdAt: Date.now() });
    this.open = true;
  }
  flush(): void {
    if (this.open) this.events$.next({ type: 'playback_finished', playbackPosition: 0, interrupted: false });
    this.open = false;
  }
  clearBuffer(): void {
    this.flush();
  }
  pause(): void {}
  resume(): void {}
}

async function sessionPath(rate: number) {
  const session = new AgentSession({});
  session.output.audio = new NullOutput(rate);
  const bg = new BackgroundAudioPlayer({ ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE, thinkingSound: BuiltinAudioClip.KEYBOARD_TYPING });
  await bg.start({ session });
  const out = session.output.audio!;
  const frames = speech(rate);
  const ms = cpuMsPerAudioSecond(() => {
    for (const f of frames) out.captureFrame(f);
    out.flush();
  });
  await bg.close();
  out.close?.();
  return ms;
}

export default async function () {
  const result: Record<string, unknown> = { unit: 'CPU ms per second of agent audio (20 ms frames, single thread)' };
  for (const rate of [24000, 48000]) {
    const frames = speech(rate);
    const k = `${rate / 1000}k`;
    result[k] = {
      mixInto_1voice: cpuMsPerAudioSecond(() => { const m = mixWith(rate, 1); for (const f of frames) m.mixInto(f); }),
      mixInto_2voices: cpuMsPerAudioSecond(() => { const m = mixWith(rate, 2); for (const f of frames) m.mixInto(f); }),
      mixInto_volume0: cpuMsPerAudioSecond(() => { const m = mixWith(rate, 1, 0); for (const f of frames) m.mixInto(f); }),
      render_2voices: cpuMsPerAudioSecond(() => { const m = mixWith(rate, 2); for (let i = 0; i < frames.length; i++) m.render(rate / 50); }),
      session_path: await sessionPath(rate),
    };
  }
  return result;
}
