/**
 * `recording: true`: both sides of a job's conversation in one stereo WAV (left: the user's input audio, right:
 * the agent's output), beside the session report. Frames are tapped where the session reads and writes them —
 * `session.input.audio` and `session.output.audio`, whenever they are attached (RoomIO attaches them at start) —
 * and placed on one timeline by arrival time: a side's frame never overlaps the one before it on that side, so
 * the agent's speech, written faster than real time, is laid end to end from the moment it began.
 */
import { join } from 'node:path';
import { tap, type Observable } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';
import { WavWriter } from '../audio/wav.ts';
import type { AudioOutput } from '../io/types.ts';
import type { AgentSession } from '../session/agentSession.ts';

const RATE = 24_000;

interface Piece {
  atMs: number;
  samples: Int16Array;
  rate: number;
}

class Side {
  readonly pieces: Piece[] = [];
  private endMs = 0;
  constructor(private readonly t0: number) {}
  add(frame: AudioFrame): void {
    const mono = frame.channels === 1 ? frame.data : frame.data.filter((_, i) => i % frame.channels === 0);
    const atMs = Math.max(Date.now() - this.t0, this.endMs);
    this.pieces.push({ atMs, samples: mono, rate: frame.sampleRate });
    this.endMs = atMs + (1000 * frame.samplesPerChannel) / frame.sampleRate;
  }
  get lengthMs(): number {
    return this.endMs;
  }
}

export class SessionRecorder {
  private readonly user: Side;
  private readonly agent: Side;

  constructor(session: AgentSession<any>, startedAt: number) {
    this.user = new Side(startedAt);
    this.agent = new Side(startedAt);
    const user = this.user;
    const agent = this.agent;
    interceptProperty(session.input, 'audio', (audio$: Observable<AudioFrame> | null) => audio$ && audio$.pipe(tap((f) => user.add(f))));
    interceptProperty(session.output, 'audio', (out: AudioOutput | null) => out && recordingOutput(out, (f) => agent.add(f)));
  }

  /** Writes `<dir>/session-<job id>.wav` (stereo, 24 kHz, 16-bit) and returns its path. */
  async finish(dir: string, jobId: string): Promise<string> {
    const path = join(dir, `session-${jobId}.wav`);
    const total = Math.ceil((Math.max(this.user.lengthMs, this.agent.lengthMs) * RATE) / 1000);
    const data = new Int16Array(total * 2);
    place(this.user, data, 0);
    place(this.agent, data, 1);
    const w = new WavWriter(path);
    w.write(new AudioFrame(data, RATE, 2, total));
    w.close();
    return path;
  }
}

/** Linear-interpolation resampling onto the 24 kHz timeline: a recording for listening, not for analysis. */
function place(side: Side, out: Int16Array, channel: number): void {
  const frames = out.length / 2;
  for (const p of side.pieces) {
    const start = Math.round((p.atMs * RATE) / 1000);
    const n = Math.round((p.samples.length * RATE) / p.rate);
    for (let i = 0; i < n && start + i < frames; i++) {
      const x = (i * p.rate) / RATE;
      const a = p.samples[Math.floor(x)] ?? 0;
      const b = p.samples[Math.min(p.samples.length - 1, Math.floor(x) + 1)] ?? a;
      out[(start + i) * 2 + channel] = Math.round(a + (b - a) * (x - Math.floor(x)));
    }
  }
}

/** An output that hands each frame to `onFrame` and then to the real output, unchanged otherwise. */
function recordingOutput(out: AudioOutput, onFrame: (f: AudioFrame) => void): AudioOutput {
  return new Proxy(out, {
    get(target, prop, receiver) {
      if (prop === 'captureFrame') return (f: AudioFrame) => (onFrame(f), target.captureFrame(f));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Wraps whatever is assigned to obj[key], now and later. */
function interceptProperty<T extends object, K extends keyof T>(obj: T, key: K, wrap: (v: T[K]) => T[K]): void {
  let value = obj[key] ? wrap(obj[key]) : obj[key];
  Object.defineProperty(obj, key, {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (v: T[K]) => (value = v ? wrap(v) : v),
  });
}
