/**
 * The worker bench's agent: Silero VAD loaded once per process in prewarm; each job joins and runs a session on the
 * room through RoomIO (real VAD on the user's microphone in real time, the agent's track published, lk.agent.state
 * set), so the bench sees "joined and listening" and each job costs what a deployed one does while it listens.
 * Server options come from the environment so one file serves every bench configuration.
 */
import { RoomEvent, AudioStream, TrackKind, type RemoteTrack } from '@livekit/rtc-node';
import { Agent } from '../../src/agent.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import { FakeLLM, FakeTTS } from '../../src/testing/index.ts';
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
    if (process.env.BENCH_MODE === 'stream-only') {
      ctx.room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
        if (track.kind !== TrackKind.KIND_AUDIO) return;
        void (async () => {
          const reader = new AudioStream(track, { sampleRate: 16000, numChannels: 1, frameSizeMs: 50 }).getReader();
          while (!(await reader.read()).done);
        })();
      });
      await ctx.connect();
      await ctx.agent!.setAttributes({ 'lk.agent.state': 'listening', 'bench.vadEvents': '1' });
      return;
    }
    // A job as deployed: RoomIO hears the user's microphone (16 kHz, what the VAD takes), publishes the agent's
    // track (its queued AudioSource encodes silence while the agent is quiet) and sets lk.agent.state.
    let vadEvents = 0;
    const session = new AgentSession({
      vad: ctx.proc.userdata.vad as SileroVAD,
      llm: new FakeLLM([]),
      tts: new FakeTTS([]),
      turnHandling: { turnDetection: 'manual' },
      userAwayTimeout: null,
    });
    session.on('user_state_changed', () => vadEvents++);
    ctx.setPrimarySession(session);
    await session.start({ agent: new Agent({ instructions: 'bench' }), room: ctx.room, roomInputOptions: { audioSampleRate: 16000, deleteRoomOnClose: false } });
    await ctx.connect();
    const timer = setInterval(() => void ctx.agent?.setAttributes({ 'bench.vadEvents': String(vadEvents) }).catch(() => {}), 1000);
    ctx.addShutdownCallback(() => clearInterval(timer));
  },
});
