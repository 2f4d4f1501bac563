import { ConnectionState, RoomEvent, type RemoteParticipant, type Room } from '@livekit/rtc-node';
import { Subject, type Observable } from 'rxjs';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import { startChild, stopChild, type ActorHome } from './childActor.ts';
import { participantLinkMachine } from '../../machines/participantLink.ts';
import { roomAudioInputLogic } from '../../actors/roomAudioInput.ts';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioOutput, TextOutput } from '../io/types.ts';
import type { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent } from '../session/events.ts';
import { AgentStateAttribute } from './agentStateAttribute.ts';
import { routeRoomEvents } from './ffiClient.ts';
import {
  CLOSE_ON_DISCONNECT_REASONS,
  resolveRoomInputOptions,
  resolveRoomOutputOptions,
  type ResolvedRoomInputOptions,
  type ResolvedRoomOutputOptions,
  type RoomInputOptions,
  type RoomOutputOptions,
} from './options.ts';
import { PreConnectAudioHandler } from './preConnectAudio.ts';
import { deleteRoom } from './roomService.ts';
import { RoomAudioOutput } from './roomAudioOutput.ts';
import { registerChatInput } from './textInput.ts';
import { RoomTranscriptionOutput, UserTranscriptPublisher } from './transcriptionOutput.ts';
import { RoomVideoInput } from './roomVideoInput.ts';
import { resolveVideoSampler } from './videoSampler.ts';

export interface RoomIOOptions {
  inputOptions?: RoomInputOptions;
  outputOptions?: RoomOutputOptions;
  /** Link this participant (wins over `inputOptions.participantIdentity`). */
  participant?: string;
}

const registry = new WeakMap<object, RoomIO>();

/** The RoomIO serving this session, if any. */
export function roomIOOf(session: AgentSession<any>): RoomIO | undefined {
  return registry.get(session);
}

/** The RoomIO built for this session and room, if any (a custom one made before `session.start`). */
export function roomIOFor(session: AgentSession<any>, room: Room): RoomIO | undefined {
  const io = registry.get(session);
  return io && io.room === room ? io : undefined;
}

/**
 * Connects an AgentSession to a LiveKit room: the linked participant's microphone (and camera) in, the agent's voice
 * as a published track out, transcripts of both sides on `lk.transcription`, chat on `lk.chat`, and the agent's
 * state as the `lk.agent.state` attribute. Which participant is linked is the `participantLink` machine's decision;
 * each input and output is an actor (`actors`). The parts are plain fields: replace `audioInput`, `audioOutput` or
 * `transcriptionOutput` with your own before `start()`.
 */
export class RoomIO {
  readonly inputOptions: ResolvedRoomInputOptions;
  readonly outputOptions: ResolvedRoomOutputOptions;
  audioInput: Observable<AudioFrame> | null;
  audioOutput: AudioOutput | null;
  transcriptionOutput: TextOutput | null;
  readonly linkActor: Actor<typeof participantLinkMachine>;
  /** The camera input (videoEnabled and a videoSampler), else null. */
  readonly videoInput: RoomVideoInput | null;
  private readonly frames = new Subject<AudioFrame>();
  private readonly roomAudio: RoomAudioOutput | null;
  private readonly userTranscripts: UserTranscriptPublisher | null;
  private readonly stateAttribute: AgentStateAttribute;
  /** Pre-connect recordings (inputOptions.preConnectAudio with audio input), else null. */
  private readonly preConnect: PreConnectAudioHandler | null;
  private micInput: AnyActorRef | null = null;
  private readonly home: ActorHome;
  private micTrackSid: string | undefined;
  private cleanups: Array<() => void> = [];
  private started = false;
  private closed = false;
  private deletion: Promise<void> | null = null;
  private linkWaiters: Array<(identity: string) => void> = [];

  constructor(
    readonly session: AgentSession<any>,
    readonly room: Room,
    opts: RoomIOOptions = {},
  ) {
    routeRoomEvents(room);
    // Every input and output actor is a child of the session's root actor: one tree, one system, one inspector.
    this.home = { parent: session._rootActor };
    this.inputOptions = resolveRoomInputOptions(opts.inputOptions);
    this.outputOptions = resolveRoomOutputOptions(opts.outputOptions);
    const io = this.inputOptions;
    const out = this.outputOptions;
    const nc = io.noiseCancellation;
    this.audioInput = io.audioEnabled ? (nc ? nc.process(this.frames.asObservable()) : this.frames.asObservable()) : null;
    this.roomAudio = out.audioEnabled
      ? new RoomAudioOutput(room, {
          sampleRate: out.audioSampleRate,
          numChannels: out.audioNumChannels,
          trackName: out.audioTrackName,
          publishOptions: out.audioPublishOptions,
          parent: this.home.parent,
        })
      : null;
    this.audioOutput = this.roomAudio;
    const report = (label: string) => (e: Error) => this.report('session', label, e);
    this.transcriptionOutput = out.transcriptionEnabled
      ? new RoomTranscriptionOutput(room, {
          syncToPlayout: out.syncTranscription,
          speedFactor: out.transcriptionSpeedFactor,
          trackSid: () => this.roomAudio?.trackSid,
          onError: report('agent transcription'),
        })
      : null;
    this.userTranscripts = out.transcriptionEnabled
      ? new UserTranscriptPublisher(room, { identity: () => this.linkedIdentity, trackSid: () => this.micTrackSid, onError: report('user transcription') })
      : null;
    this.stateAttribute = new AgentStateAttribute(room, report('lk.agent.state'));
    this.preConnect =
      io.audioEnabled && io.preConnectAudio
        ? new PreConnectAudioHandler(room, { timeoutMs: io.preConnectAudioTimeout, onError: (e) => this.report('audio_input', 'pre-connect audio', e) })
        : null;
    const sampler = io.videoEnabled ? resolveVideoSampler(session._videoSampler) : null;
    this.videoInput = sampler
      ? new RoomVideoInput(room, {
          sampler,
          userSpeaking: () => session.userState === 'speaking',
          home: this.home,
          onError: (e) => this.report('audio_input', 'room video input', e),
        })
      : null;
    this.linkActor = createActor(
      participantLinkMachine.provide({
        actions: {
          link: ({ context }) => this.onLinked(context.linked!),
          unlink: ({ context }) => this.onUnlinked(context.linked!),
          offerParticipants: () => queueMicrotask(() => this.offerAll()),
          closeSession: () => queueMicrotask(() => void this.session.close({ reason: 'participant_disconnected' })),
        },
      }),
      {
        input: {
          pinned: opts.participant ?? io.participantIdentity ?? null,
          allowedKinds: [...io.participantKinds],
          closeOnDisconnect: io.closeOnDisconnect,
          closeReasons: [...CLOSE_ON_DISCONNECT_REASONS],
        },
        parent: this.home.parent,
      },
    );
    // Started at once: setParticipant() may come before start() (nothing is offered before the room is followed).
    this.linkActor.start();
    registry.set(session, this);
  }

  /** The participant whose audio, video and text are processed now. */
  get linkedIdentity(): string | null {
    return this.linkActor.getSnapshot().context.linked;
  }

  /** Every actor of this RoomIO (link logic, audio output, the current microphone input), for inspection trees. */
  get actors(): AnyActorRef[] {
    const list: AnyActorRef[] = [this.linkActor as AnyActorRef];
    if (this.roomAudio) list.push(this.roomAudio.actor as AnyActorRef);
    if (this.micInput) list.push(this.micInput);
    if (this.videoInput?.actor) list.push(this.videoInput.actor);
    return list;
  }

  /** Resolves with the identity of the next (or current) linked participant. */
  waitForParticipant(): Promise<string> {
    const now = this.linkedIdentity;
    return now ? Promise.resolve(now) : new Promise((r) => this.linkWaiters.push(r));
  }

  /** Links this identity (or nobody: null) from now on. */
  setParticipant(identity: string | null): void {
    this.linkActor.send({ type: 'SET_PARTICIPANT', identity });
  }

  /** Attaches the parts to the session and starts following the room. Called by `session.start({ room })`. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const s = this.session;
    if (this.audioInput && !s.input.audio) s.input.audio = this.audioInput;
    if (this.audioOutput && !s.output.audio) s.output.audio = this.audioOutput;
    if (this.transcriptionOutput && !s.output.transcription) s.output.transcription = this.transcriptionOutput;
    const video = this.videoInput;
    if (video) {
      s._onUserTurnMessage = (m) => video.attachTo(m);
      this.cleanups.push(() => {
        if (s._onUserTurnMessage) s._onUserTurnMessage = null;
      });
    }
    if (this.roomAudio) {
      const sub = this.roomAudio.errors$.subscribe((e) => this.report('audio_output', 'room audio output', e));
      this.cleanups.push(() => sub.unsubscribe());
    }
    const onEvent = (ev: AgentSessionEvent) => {
      if (ev.type === 'agent_state_changed') this.stateAttribute.set(ev.newState);
      else if (ev.type === 'user_input_transcribed') this.userTranscripts?.publish(ev.transcript, ev.isFinal);
      else if (ev.type === 'close') void this.onSessionClosed();
    };
    const sub = s.events$.subscribe(onEvent);
    this.cleanups.push(() => sub.unsubscribe());
    const room = this.room;
    const onJoined = (p: RemoteParticipant) => this.offer(p);
    const onLeft = (p: RemoteParticipant) => this.linkActor.send({ type: 'PARTICIPANT_LEFT', identity: p.identity, reason: p.disconnectReason });
    // rtc-node 1.x never emits RoomEvent.Connected (its FFI handler for it is commented out): a RoomIO started
    // before `room.connect()` learns of the connection from ConnectionStateChanged. Connected stays for other Rooms.
    const onConnected = () => this.onRoomConnected();
    const onConnectionState = (state: ConnectionState) => {
      if (state === ConnectionState.CONN_CONNECTED) this.onRoomConnected();
    };
    room.on(RoomEvent.ParticipantConnected, onJoined);
    room.on(RoomEvent.ParticipantDisconnected, onLeft);
    room.on(RoomEvent.Connected, onConnected);
    room.on(RoomEvent.ConnectionStateChanged, onConnectionState);
    this.cleanups.push(() => {
      room.off(RoomEvent.ParticipantConnected, onJoined);
      room.off(RoomEvent.ParticipantDisconnected, onLeft);
      room.off(RoomEvent.Connected, onConnected);
      room.off(RoomEvent.ConnectionStateChanged, onConnectionState);
    });
    // Registered before the room connects when the session starts first: a buffer sent as soon as the agent
    // joins is then not missed (rtc-node drops streams whose topic has no handler).
    if (this.preConnect?.register()) {
      const pre = this.preConnect;
      this.cleanups.push(() => pre.close());
    }
    if (this.inputOptions.textEnabled) {
      const unregister = registerChatInput(room, {
        allowed: () => this.linkedIdentity ?? this.linkActor.getSnapshot().context.pinned,
        onText: (ev) =>
          void Promise.resolve()
            .then(() => this.inputOptions.textInputCallback(this.session, ev))
            .catch((e: unknown) => this.report('session', 'textInputCallback', e)),
        onError: (e) => this.report('session', 'lk.chat', e),
      });
      if (unregister) this.cleanups.push(unregister);
    }
    if (room.isConnected) this.onRoomConnected();
  }

  /** Stops following the room; the published track is removed. Waits for a pending room deletion (≤ 10 s). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.cleanups.splice(0)) c();
    this.linkActor.send({ type: 'STOP' });
    if (this.micInput) stopChild(this.micInput, this.home);
    this.micInput = null;
    this.videoInput?.stop();
    this.roomAudio?.close();
    this.frames.complete();
    await this.deletion;
    if (registry.get(this.session) === this) registry.delete(this.session);
  }

  private onRoomConnected(): void {
    const lp = this.room.localParticipant;
    if (!lp) return;
    void this.roomAudio?.publish().catch((e: unknown) => this.report('audio_output', 'publish agent track', e));
    if (this.session.agentState !== 'initializing') this.stateAttribute.set(this.session.agentState);
    this.linkActor.send({ type: 'CONNECTED', agentIdentity: lp.identity });
  }

  private offerAll(): void {
    for (const p of this.room.remoteParticipants.values()) this.offer(p);
  }

  private offer(p: RemoteParticipant): void {
    this.linkActor.send({
      type: 'PARTICIPANT_JOINED',
      participant: { identity: p.identity, kind: p.kind, publishOnBehalf: p.attributes?.['lk.publish_on_behalf'] },
    });
  }

  private onLinked(identity: string): void {
    this.userTranscripts?.rotate();
    if (this.inputOptions.audioEnabled) {
      this.micInput = startChild(roomAudioInputLogic, this.home, {
        room: this.room,
        identity,
        sampleRate: this.inputOptions.audioSampleRate,
        numChannels: this.inputOptions.audioNumChannels,
        push: (f: AudioFrame) => this.frames.next(f),
        onTrack: (sid: string | null) => (this.micTrackSid = sid ?? undefined),
        onError: (e: Error) => this.report('audio_input', 'room audio input', e),
        preConnect: this.preConnect,
        onPreConnectError: (e: Error) => this.report('audio_input', 'pre-connect audio', e),
      });
    }
    this.videoInput?.follow(identity);
    for (const w of this.linkWaiters.splice(0)) w(identity);
  }

  private onUnlinked(_identity: string): void {
    if (this.micInput) stopChild(this.micInput, this.home);
    this.micInput = null;
    this.micTrackSid = undefined;
    this.videoInput?.stop();
  }

  private async onSessionClosed(): Promise<void> {
    if (this.inputOptions.deleteRoomOnClose && !this.deletion) {
      this.deletion = deleteRoom(this.room.name ?? '', this.inputOptions).catch((e: unknown) => this.report('session', 'delete room', e));
    }
    await this.close();
  }

  private report(source: 'session' | 'audio_input' | 'audio_output', label: string, e: unknown): void {
    this.session._reportError(source, label, e, true);
  }
}
