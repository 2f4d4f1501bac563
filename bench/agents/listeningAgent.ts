/**
 * The worker bench's agent: Silero VAD loaded once per process in prewarm; each job joins, opens a session whose
 * input is the first microphone track in the room (real VAD, real time), and publishes `lk.agent.state` as the
 * session's agent state changes (what RoomIO does), so the bench sees "joined and listening". Server options
 * come from the environment so one file serves every bench configuration.
 */
import { RoomEvent, AudioStream, TrackKind, type RemoteTrack } from '@livekit/rtc-node';
import { Subject } from 'rxjs';
import { AudioFrame } from '../../src/audio/frame.ts';
import { Agent } from '../../src/agent.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import { FakeAudioOutput, FakeLLM, FakeTTS } from '../../src/testing/index.ts';
import { defineAgent } from '../../src/worker/defineAgent.ts';

export default defineAgent({
  server: {
    agentName: process.env.BENCH_AGENT_NAME,
    jobsPerProcess: Number(process.env.BENCH_JOBS_PER_PROCESS ?? 1),
    loadFunc: () => 0,
  },
  prewarm: async (proc) => {
    proc.userdata.vad = await SileroVAD.load();
  },
  entry: async (ctx) => {
    // BENCH_MODE=stream-only: frames are read from the room but no session runs (the transport's share of the cost).
    const streamOnly = process.env.BENCH_MODE === 'stream-only';
    const audio$ = new Subject<AudioFrame>();
    let vadEvents = 0;
    ctx.room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      void (async () => {
        const reader = new AudioStream(track, { sampleRate: 16000, numChannels: 1, frameSizeMs: Number(process.env.BENCH_FRAME_MS ?? 50) }).getReader();
        for (;;) {
          const { done, value: f } = await reader.read();
          if (done) break;
          if (!streamOnly) audio$.next(new AudioFrame(f.data, f.sampleRate, f.channels, f.samplesPerChannel));
        }
      })();
    });
    await ctx.connect();
    const session = new AgentSession({
      vad: ctx.proc.userdata.vad as SileroVAD,
      llm: new FakeLLM([]),
      tts: new FakeTTS([]),
      turnHandling: { turnDetection: 'manual' },
      userAwayTimeout: null,
    });
    session.on('agent_state_changed', (e) => void ctx.agent?.setAttributes({ 'lk.agent.state': e.newState }).catch(() => {}));
    session.on('user_state_changed', () => vadEvents++);
    session.input.audio = audio$;
    session.output.audio = new FakeAudioOutput();
    ctx.setPrimarySession(session);
    if (streamOnly) {
      await ctx.agent!.setAttributes({ 'lk.agent.state': 'listening', 'bench.vadEvents': '1' });
      return;
    }
    await session.start({ agent: new Agent({ instructions: 'bench' }) });
    const timer = setInterval(() => void ctx.agent?.setAttributes({ 'bench.vadEvents': String(vadEvents) }).catch(() => {}), 1000);
    ctx.addShutdownCallback(() => clearInterval(timer));
  },
});
