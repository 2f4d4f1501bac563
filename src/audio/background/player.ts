import type { Subscription } from 'rxjs';
import { createActor, type Actor } from 'xstate';
import { backgroundAudioMachine } from '../../../machines/backgroundAudio.ts';
import type { AudioOutput } from '../../io/types.ts';
import type { AgentSession } from '../../session/agentSession.ts';
import { chooseSound, loadClip, soundConfigs, type AudioConfig, type SoundSpec } from './clipSource.ts';
import { BackgroundMix, type Clip, type MixVoice } from './mix.ts';
import { MixingAudioOutput } from './mixingOutput.ts';

export interface BackgroundAudioPlayerOptions {
  /** Loops for the whole session, under everything. */
  ambientSound?: SoundSpec;
  /** Loops while the agent thinks (agent state `thinking`); a list is drawn from each time. */
  thinkingSound?: SoundSpec;
  /**
   * ms of background kept queued on the output ahead of real time. It is also the most the agent's first frame of
   * a reply waits while the background segment before it plays out. Default 60.
   */
  leadMs?: number;
  /** Rate of the background when the output names none. Default: the session's TTS rate, else 24000. */
  sampleRate?: number;
  /** A uniform draw in [0, 1), for choosing among sounds. Default Math.random. */
  random?: () => number;
}

export interface BackgroundStartOptions {
  session: AgentSession<any>;
  /** The room the session serves: its RoomIO's audio output is the one mixed into. */
  room?: unknown;
}

/** A sound started by `play()`. */
export interface PlayHandle {
  /** Stops the sound (idempotent). */
  stop(): void;
  /** Settles when the sound ended or was stopped; rejects when its clip cannot be loaded (an AudioFormatError). */
  readonly done: Promise<void>;
  readonly playing: boolean;
}

/**
 * Background audio for a session: an ambient loop and a thinking sound, mixed into the agent's audio output.
 * The `backgroundAudio` machine decides when the output is taken over, when the thinking sound plays and which
 * segment reaches the device; this class loads the clips and runs the actor (a member of the session's actor
 * system). The mix touches neither text nor history, and the agent's playback events pass through as the device
 * reports them.
 */
export class BackgroundAudioPlayer {
  private readonly ambient: AudioConfig[] | null;
  private readonly thinking: AudioConfig[] | null;
  private readonly leadMs: number;
  private readonly random: () => number;
  private readonly clips = new Map<unknown, Promise<Clip>>();
  private mix: BackgroundMix | null = null;
  private output: MixingAudioOutput | null = null;
  private actorRef: Actor<typeof backgroundAudioMachine> | null = null;
  private session: AgentSession<any> | null = null;
  private sessionEvents: Subscription | null = null;
  private readonly handles = new Set<PlayHandle>();
  private thinkingHandle: PlayHandle | null = null;
  private closed = false;

  constructor(private readonly opts: BackgroundAudioPlayerOptions = {}) {
    this.ambient = opts.ambientSound === undefined ? null : soundConfigs(opts.ambientSound, 'ambientSound');
    this.thinking = opts.thinkingSound === undefined ? null : soundConfigs(opts.thinkingSound, 'thinkingSound');
    this.leadMs = opts.leadMs ?? 60;
    if (!(this.leadMs >= 10 && this.leadMs <= 1000)) throw new TypeError(`leadMs must be from 10 to 1000, got ${opts.leadMs}`);
    this.random = opts.random ?? Math.random;
  }

  /** The `backgroundAudio` actor (for inspection and tests); null before start. */
  get actor(): Actor<typeof backgroundAudioMachine> | null {
    return this.actorRef;
  }

  /**
   * Loads the clips (a bad WAV rejects here, with an AudioFormatError naming it) and starts mixing into the
   * session's audio output. The output is taken over at once when no agent audio can be in flight (the session
   * not started yet, or listening), else as soon as the agent next listens.
   */
  async start({ session, room }: BackgroundStartOptions): Promise<void> {
    if (this.actorRef) throw new Error('this BackgroundAudioPlayer was started already');
    const target = await outputSlot(session, room);
    const device = target.get();
    if (!device) throw new Error('BackgroundAudioPlayer.start: the session has no audio output (set session.output.audio, or start it with { room } first)');
    if (session._rootActor.system.get('backgroundAudio')) throw new Error('BackgroundAudioPlayer.start: this session has background audio already');
    const rate = device.sampleRate ?? this.opts.sampleRate ?? session.tts?.sampleRate ?? 24000;
    await Promise.all([...(this.ambient ?? []), ...(this.thinking ?? [])].map((c) => this.clip(c, rate)));
    const mix = (this.mix = new BackgroundMix(rate));
    this.session = session;
    let actor: Actor<typeof backgroundAudioMachine> | null = null;
    const output = (this.output = new MixingAudioOutput(device, mix, {
      leadMs: this.leadMs,
      send: (ev) => actor?.send(ev),
      onClose: () => this.detach(target, device),
    }));
    // An action that throws would stop the actor, and the agent's audio with it: a failure is reported instead.
    const safe = (label: string, fn: () => void) => () => {
      try {
        fn();
      } catch (e) {
        session._reportError('audio_output', `background audio: ${label}`, e, true);
      }
    };
    const actions = {
          attachOutput: () => {
            target.set(output);
            output.startPump();
          },
          startAmbient: () => void (this.ambient && this.playChosen(this.ambient)),
          startThinking: () => (this.thinkingHandle = this.thinking && this.playChosen(this.thinking)),
          stopThinking: () => {
            this.thinkingHandle?.stop();
            this.thinkingHandle = null;
          },
          stopAllSounds: () => {
            for (const h of [...this.handles]) h.stop();
            mix.clear();
            output.stopPump();
          },
          pushBackground: () => output.pushBackground(),
          passAgentFrames: () => output.passAgentFrames(),
          dropAgentFrames: () => output.dropAgentFrames(),
          flushDevice: () => output.flushDevice(),
          clearDevice: () => output.clearDevice(),
          forwardStarted: () => output.forwardStarted(),
          forwardFinished: () => output.forwardFinished(),
          reportAgentCleared: () => output.reportAgentCleared(),
    };
    actor = this.actorRef = createActor(
      backgroundAudioMachine.provide({
        actions: Object.fromEntries(Object.entries(actions).map(([k, fn]) => [k, safe(k, fn)])) as typeof actions,
      }),
      { parent: session._rootActor, systemId: 'backgroundAudio' },
    );
    actor.start();
    const facts = () => ({ agentState: session.agentState, outputIdle: outputIdle(session) });
    this.sessionEvents = session.events$.subscribe((ev) => {
      if (ev.type === 'agent_state_changed') actor.send({ type: 'AGENT_STATE', ...facts() });
      else if (ev.type === 'close') void this.close();
    });
    actor.send({ type: 'START', ...facts() });
  }

  /** Plays a sound over the agent's output (once, or looping) until it ends or is stopped. Needs `start()` first. */
  play(sound: SoundSpec, opts: { loop?: boolean } = {}): PlayHandle {
    if (!this.mix) throw new Error('BackgroundAudioPlayer.play: call start() first');
    if (this.closed) throw new Error('BackgroundAudioPlayer.play: the player is closed');
    const choice = chooseSound(soundConfigs(sound, 'play'), this.random());
    return this.startVoice(choice, opts.loop ?? false);
  }

  /** Stops every sound; the session's audio keeps passing through unchanged. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.sessionEvents?.unsubscribe();
    this.sessionEvents = null;
    this.actorRef?.send({ type: 'CLOSE' });
    this.output?.stopPump();
  }

  private playChosen(list: AudioConfig[]): PlayHandle | null {
    const choice = chooseSound(list, this.random());
    return choice && this.startVoice(choice, true);
  }

  private startVoice(config: AudioConfig | null, loop: boolean): PlayHandle {
    const mix = this.mix!;
    let voice: MixVoice | null = null;
    let stopped = false;
    let ended!: () => void;
    let failed!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => ((ended = res), (failed = rej)));
    done.catch(() => undefined); // the error is also reported to the session; an unawaited handle is no crash
    const handle: PlayHandle = {
      stop: () => {
        stopped = true;
        if (voice) mix.remove(voice);
        else ended();
        this.handles.delete(handle);
      },
      done,
      get playing() {
        return voice !== null && mix.voices.has(voice);
      },
    };
    if (!config) {
      ended();
      return handle;
    }
    this.handles.add(handle);
    this.clip(config, mix.sampleRate).then(
      (clip) => {
        if (stopped) return;
        voice = { clip, gain: config.volume ?? 1, loop, position: 0, onEnd: () => (this.handles.delete(handle), ended()) };
        mix.add(voice);
      },
      (e: unknown) => {
        this.handles.delete(handle);
        failed(e);
        this.session?._reportError('session', 'background audio', e, true);
      },
    );
    return handle;
  }

  private clip(config: AudioConfig, rate: number): Promise<Clip> {
    const key = typeof config.source === 'string' ? `${rate}:${config.source}` : config.source;
    let p = this.clips.get(key);
    if (!p) this.clips.set(key, (p = loadClip(config.source, rate)));
    return p;
  }

  /** The session closed the mixing output: the actor goes, and a restarted session gets its bare device back. */
  private detach(target: OutputSlot, device: AudioOutput): void {
    void this.close();
    if (target.get() === this.output) target.set(device);
    // A member of the session's system is stopped by its root (as the audio output channel is).
    if (this.actorRef && this.session) this.session._rootActor.send({ type: 'STOP_CHILD', ref: this.actorRef });
  }
}

/** No agent audio can be in flight on the session's output: it has not started, or it is idle. */
function outputIdle(session: AgentSession<any>): boolean {
  const lc = session.lifecycle;
  return lc === 'initializing' || lc === 'closed' || (session.agentState === 'listening' && session.currentSpeech === null);
}

interface OutputSlot {
  get(): AudioOutput | null;
  set(o: AudioOutput): void;
}

/** Where the mixing output goes: the session's audio output, or (a room session not started yet) its RoomIO's. */
async function outputSlot(session: AgentSession<any>, room: unknown): Promise<OutputSlot> {
  const sessionSlot: OutputSlot = { get: () => session.output.audio, set: (o) => (session.output.audio = o) };
  if (room === undefined) return sessionSlot;
  // Loaded only for rooms: the LiveKit SDK has native bindings.
  const { roomIOOf } = await import('../../room/roomIO.ts');
  const io = roomIOOf(session);
  if (!io || io.room !== room) throw new Error('BackgroundAudioPlayer.start: the session does not serve this room (start it with { room } first, or make its RoomIO)');
  if (session.output.audio) return sessionSlot;
  return { get: () => io.audioOutput, set: (o) => (io.audioOutput = o) };
}
