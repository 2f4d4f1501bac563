/**
 * Pre-connect audio on the real LiveKit server. The user joins before the agent and publishes a microphone with
 * the `preconnectBuffer` publish option (the server then marks it TF_PRECONNECT_BUFFER), and what they said while
 * waiting goes to the agent on `lk.agent.pre-connect-audio-buffer` once it is there — as livekit-client does. The
 * live microphone only ever carries silence, so a transcript can only come from the buffer.
 */
import { AudioFrame as RtcAudioFrame, AudioSource, LocalAudioTrack, Room, RoomEvent, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.ts';
import type { AudioFrame } from '../../src/audio/frame.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import type { SpeechEvent, STT } from '../../src/providers/types.ts';
import { routeRoomEvents } from '../../src/room/ffiClient.ts';
import { roomIOOf } from '../../src/room/index.ts';
import { TF_PRECONNECT_BUFFER, TOPIC_PRE_CONNECT_AUDIO } from '../../src/room/preConnectAudio.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import type { AgentSessionEvent } from '../../src/session/events.ts';
import { FakeLLM } from '../../src/testing/index.ts';
import { VadScriptedSTT } from './helpers/agent.ts';
import { join, liveKitEnv, token, uniqueRoom, until, wavFrames } from './helpers/livekit.ts';

const env = liveKitEnv();
const QUESTION = 'What time is it?';

/** The recogniser, recording the level of every frame it is given (mean absolute sample). */
class RecordingSTT implements STT {
  readonly label = 'recording-stt';
  readonly capabilities = { streaming: true, interimResults: true };
  readonly levels: Array<{ ms: number; level: number }> = [];
  constructor(private readonly inner: STT) {}
  stream(audio: Observable<AudioFrame>): Observable<SpeechEvent> {
    const tapped = new Observable<AudioFrame>((o) =>
      audio.subscribe({
        next: (f) => {
          let s = 0;
          for (const v of f.data) s += Math.abs(v);
          this.levels.push({ ms: f.durationMs, level: s / Math.max(1, f.data.length) });
          o.next(f);
        },
        error: (e) => o.error(e),
        complete: () => o.complete(),
      }),
    );
    return this.inner.stream(tapped);
  }
}

/** A microphone published with the pre-connect option, sending 10 ms of silence at a time until stopped. */
async function publishSilentMic(room: Room): Promise<{ sid: string; stop: () => Promise<void> }> {
  const source = new AudioSource(16000, 1, 100);
  const pub = await room.localParticipant!.publishTrack(
    LocalAudioTrack.createAudioTrack('mic', source),
    new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE, preconnectBuffer: true }),
  );
  let stopped = false;
  void (async () => {
    while (!stopped) await source.captureFrame(new RtcAudioFrame(new Int16Array(160), 16000, 1, 160)).catch(() => (stopped = true));
  })();
  return {
    sid: pub.sid!,
    stop: async () => {
      stopped = true;
      await source.close();
    },
  };
}

const pcmBytes = (frames: AudioFrame[]) => {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.data.byteLength, 0));
  frames.reduce((o, f) => (out.set(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength), o), o + f.data.byteLength), 0);
  return out;
};

describe.skipIf(!env)('pre-connect audio on a real LiveKit server', () => {
  let vad: SileroVAD;
  const rooms: Room[] = [];
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    vad = await SileroVAD.load();
  });
  afterAll(async () => {
    for (const s of stops) await s().catch(() => undefined);
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  async function scenario(buffer: (sid: string) => { bytes: Uint8Array; mimeType: string; attributes: Record<string, string> }) {
    const name = uniqueRoom('preconnect');
    const userRoom = await join(env!, name, 'user-1');
    rooms.push(userRoom);
    const mic = await publishSilentMic(userRoom);
    stops.push(mic.stop);
    // The agent's room is not connected yet: the session (and its RoomIO) starts first, as a worker should do.
    const agentRoom = new Room();
    routeRoomEvents(agentRoom);
    rooms.push(agentRoom);
    const stt = new RecordingSTT(new VadScriptedSTT(vad, [QUESTION]));
    const llm = new FakeLLM([{ input: QUESTION, content: 'Noon.', ttft: 50, duration: 100 }]);
    const session = new AgentSession({ vad, stt, llm, tts: null, userAwayTimeout: null, turnHandling: { aecWarmupDuration: 0 } });
    const events: AgentSessionEvent[] = [];
    session.events$.subscribe((e) => events.push(e));
    await session.start({
      agent: new Agent({ instructions: 'You tell the time.' }),
      room: agentRoom,
      roomInputOptions: { deleteRoomOnClose: false, audioSampleRate: 16000 },
      roomOutputOptions: { audioEnabled: false, transcriptionEnabled: false },
    });
    const agentJoined = new Promise<void>((r) => userRoom.on(RoomEvent.ParticipantConnected, (p) => p.identity === 'agent-1' && r()));
    await agentRoom.connect(env!.url, await token(env!, name, 'agent-1', { kind: 'agent' }), { autoSubscribe: true, dynacast: false });
    await agentJoined;
    const { bytes, mimeType, attributes } = buffer(mic.sid);
    const writer = await userRoom.localParticipant!.streamBytes({ name: 'preconnect-buffer', topic: TOPIC_PRE_CONNECT_AUDIO, mimeType, attributes, destinationIdentities: ['agent-1'] });
    for (let o = 0; o < bytes.length; o += 16_000) await writer.write(bytes.subarray(o, o + 16_000));
    await writer.close();
    return { agentRoom, session, events, stt, mic };
  }

  it('the recogniser hears what the user said before the agent joined, ahead of the live (silent) microphone', async () => {
    const speech = await wavFrames('test/fixtures/utterance-a-16k.wav');
    const speechMs = speech.reduce((n, f) => n + f.durationMs, 0);
    const t = await scenario((sid) => ({ bytes: pcmBytes(speech), mimeType: 'application/octet-stream', attributes: { trackId: sid, sampleRate: '16000', channels: '1' } }));
    // RoomIO started before connect() linked the user (rtc-node emits ConnectionStateChanged, never Connected).
    await until(() => roomIOOf(t.session)?.linkedIdentity === 'user-1', 5000, 'the user to be linked');
    const pub = [...t.agentRoom.remoteParticipants.get('user-1')!.trackPublications.values()][0]!;
    expect(pub.info?.audioFeatures).toContain(TF_PRECONNECT_BUFFER);
    await until(() => t.events.some((e) => e.type === 'user_input_transcribed' && e.isFinal), 15_000, 'the final transcript of the pre-connect speech');
    const final = t.events.find((e) => e.type === 'user_input_transcribed' && e.isFinal);
    expect(final).toMatchObject({ transcript: QUESTION });
    // The first frames the recogniser got are the recording (it starts speaking at once: the same samples, so the
    // same levels), not the live microphone's silence, which was already flowing when the buffer arrived.
    const heard = t.stt.levels;
    const recordingLevels = (await wavFrames('test/fixtures/utterance-a-16k.wav', 50)).slice(0, 10).map((f) => f.data.reduce((s, v) => s + Math.abs(v), 0) / f.data.length);
    expect(heard.slice(0, 10).map((f) => f.ms)).toEqual(Array(10).fill(50));
    heard.slice(0, 10).forEach((f, i) => expect(f.level).toBeCloseTo(recordingLevels[i]!, 0));
    let ms = 0;
    let audibleMs = 0;
    for (const f of heard) {
      if (ms >= speechMs) break;
      ms += f.ms;
      if (f.level > 50) audibleMs += f.ms;
    }
    const wavAudibleMs = speech.filter((f) => f.data.reduce((s, v) => s + Math.abs(v), 0) / f.data.length > 50).reduce((n, f) => n + f.durationMs, 0);
    expect(audibleMs).toBeGreaterThan(wavAudibleMs * 0.8);
    expect(t.events.filter((e) => e.type === 'error')).toEqual([]);
    await t.session.close();
  }, 40_000);

  it('a malformed buffer is an error event, and the session goes on', async () => {
    const t = await scenario((sid) => ({ bytes: new Uint8Array(999).fill(7), mimeType: 'audio/webm;codecs=opus', attributes: { trackId: sid, sampleRate: '48000', channels: '1' } }));
    await until(() => t.events.some((e) => e.type === 'error'), 10_000, 'the error event');
    const err = t.events.find((e) => e.type === 'error');
    expect(err).toMatchObject({ source: 'audio_input', label: 'pre-connect audio', recoverable: true });
    expect((err as { error: Error }).error.message).toMatch(/user-1 .*unusable: Opus pre-connect buffer is neither WebM nor Ogg/);
    // The live microphone still reaches the recogniser.
    const before = t.stt.levels.length;
    await until(() => t.stt.levels.length > before + 10, 5000, 'live frames after the error');
    expect(t.session.agentState).toBe('listening');
    await t.session.close();
  }, 40_000);
});
