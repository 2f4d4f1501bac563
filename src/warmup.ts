/**
 * JIT warm-up: runs one in-memory turn through an `AgentSession` per turn-detection mode, on built-in instant
 * providers (no network, no model, no audio device), then closes it.
 *
 * Why: the first turn of a fresh process runs the whole turn pipeline (user-turn and activity machines, speech
 * actor, LLM → text transforms → TTS → playout streams) for the first time. V8 compiles each function lazily on its
 * first call, inline caches start empty and XState fills its per-machine transition caches on first use, so that
 * turn costs about 10 ms more than a warm one (bench/coldTurn.bench.ts). One warm-up session at process start
 * (a worker's prewarm, before it accepts a job) moves that cost off the user's first turn. The warm-up only uses the
 * public API, so it exercises the same code a real session runs, and it leaves nothing behind once it resolves.
 */
import { Observable, Subject } from 'rxjs';
import { AudioFrame } from './audio/frame.ts';
import type { AudioOutput, PlaybackEvent } from './io/types.ts';
import { Agent } from './agent.ts';
import { AgentSession } from './session/agentSession.ts';
import type { ChatChunk, LLM, SpeechEvent, STT, SynthesizedAudio, TTS, VAD, VADEvent } from './providers/types.ts';

export interface WarmUpOptions {
  /** The turn-detection modes to warm (default both). */
  modes?: ReadonlyArray<'vad' | 'stt'>;
  /** Rate the warm-up's output asks for (default the TTS rate, 24 kHz: no resampling). */
  outputSampleRate?: number;
  /** ms a warm-up turn may take before it is reported as failed (default 5000). */
  timeoutMs?: number;
}

export interface WarmUpResult {
  /** Wall time of the whole warm-up, ms. */
  ms: number;
  /** End of turn → first frame at the output, per mode, ms. */
  turns: Record<string, number>;
}

const RATE = 24000;

const instantLLM: LLM = {
  label: 'warmup-llm',
  model: 'warmup',
  chat: () =>
    new Observable<ChatChunk>((sub) => {
      sub.next({ id: 'warmup', delta: { content: 'Sure, here is the answer.' } });
      sub.complete();
    }),
};

const oneFrame = () => ({ frame: new AudioFrame(new Int16Array(RATE / 50), RATE, 1, RATE / 50), final: true });
const instantTTS: TTS = {
  label: 'warmup-tts',
  sampleRate: RATE,
  numChannels: 1,
  capabilities: { streaming: true, alignedTranscript: false },
  synthesize: () =>
    new Observable<SynthesizedAudio>((sub) => {
      sub.next(oneFrame());
      sub.complete();
    }),
  stream: (text$) =>
    new Observable<SynthesizedAudio>((sub) =>
      text$.subscribe({
        complete: () => {
          sub.next(oneFrame());
          sub.complete();
        },
        error: (e) => sub.error(e),
      }),
    ),
};

/** Plays instantly: started at the first frame, finished at flush. */
class InstantOutput implements AudioOutput {
  readonly label = 'warmup-output';
  readonly canPause = true;
  readonly events$ = new Subject<PlaybackEvent>();
  firstFrame: (() => void) | null = null;
  private pushedMs = 0;
  private playing = false;
  constructor(readonly sampleRate: number) {}
  captureFrame(f: AudioFrame): void {
    this.firstFrame?.();
    this.firstFrame = null;
    if (!this.playing) {
      this.playing = true;
      this.pushedMs = 0;
      this.events$.next({ type: 'playback_started', createdAt: Date.now() });
    }
    this.pushedMs += f.durationMs;
  }
  flush(): void {
    if (this.playing) queueMicrotask(() => this.finish(false));
  }
  clearBuffer(): void {
    if (this.playing) this.finish(true);
  }
  pause(): void {}
  resume(): void {}
  private finish(interrupted: boolean): void {
    if (!this.playing) return;
    this.playing = false;
    this.events$.next({ type: 'playback_finished', playbackPosition: this.pushedMs, interrupted });
  }
}

const vadEvent = (type: VADEvent['type']): VADEvent => ({
  type,
  timestamp: 0,
  speechDuration: 0,
  silenceDuration: 0,
  inferenceDuration: 0,
  speaking: type !== 'end_of_speech',
  probability: type === 'end_of_speech' ? 0 : 1,
});

const tick = () => new Promise<void>((r) => setImmediate(r));

async function warmTurn(mode: 'vad' | 'stt', outputRate: number, timeoutMs: number): Promise<number> {
  const vadEvents = new Subject<VADEvent>();
  const sttEvents = new Subject<SpeechEvent>();
  const vad: VAD = { label: 'warmup-vad', stream: () => vadEvents };
  const stt: STT = { label: 'warmup-stt', capabilities: { streaming: true, interimResults: true }, stream: () => sttEvents };
  const session = new AgentSession({
    vad: mode === 'vad' ? vad : null,
    stt,
    llm: instantLLM,
    tts: instantTTS,
    turnHandling: { turnDetection: mode, endpointing: { minDelay: 0, maxDelay: 0 } },
    userAwayTimeout: null,
  });
  const output = new InstantOutput(outputRate);
  session.output.audio = output;
  session.input.audio = new Subject<AudioFrame>(); // silent: recognition runs, no frames, no timers
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await session.start({ agent: new Agent({ instructions: 'warm-up' }) });
    const reached = new Promise<number>((r) => (output.firstFrame = () => r(performance.now())));
    const final: SpeechEvent = { type: 'final_transcript', alternatives: [{ text: 'warm-up question' }] };
    let t0: number;
    if (mode === 'vad') {
      vadEvents.next(vadEvent('start_of_speech'));
      await tick();
      vadEvents.next(vadEvent('end_of_speech'));
      await tick();
      t0 = performance.now();
      sttEvents.next(final);
    } else {
      sttEvents.next({ type: 'start_of_speech' });
      await tick();
      sttEvents.next(final);
      await tick();
      t0 = performance.now();
      sttEvents.next({ type: 'end_of_speech' });
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`warm-up (${mode} mode): no reply audio within ${timeoutMs} ms`)), timeoutMs);
    });
    const t1 = await Promise.race([reached, timeout]);
    while (session.agentState === 'speaking' || session.agentState === 'thinking') await Promise.race([tick(), timeout]);
    return t1 - t0;
  } finally {
    clearTimeout(timer);
    await session.close();
  }
}

/** Runs the warm-up turns; rejects if a turn does not reach the output (the pipeline is broken). */
export async function warmUp(opts: WarmUpOptions = {}): Promise<WarmUpResult> {
  const t0 = performance.now();
  const turns: Record<string, number> = {};
  for (const mode of opts.modes ?? ['vad', 'stt']) turns[mode] = await warmTurn(mode, opts.outputSampleRate ?? RATE, opts.timeoutMs ?? 5000);
  return { ms: performance.now() - t0, turns };
}
