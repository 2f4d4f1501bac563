/**
 * The rooms bench's transport floor (VC_BENCH_ROOM_TRANSPORT=<levels>): N rooms where the agent side does only what
 * rtc-node must do for a RoomIO session (publish a 24 kHz mono track from a queued AudioSource, as RoomAudioOutput
 * does, and read the user's microphone through an AudioStream at 16 kHz in 50 ms frames, as RoomAudioInput does) and
 * nothing else: no session, no VAD, no reply. The agent process's CPU per room-second is then the native client's
 * share alone, which no change in the framework can lower; the users and the server are as in the capacity levels.
 */
import { AudioSource, AudioStream, LocalAudioTrack, type RemoteTrack, type Room, RoomEvent, TrackKind, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { DEFAULT_QUEUE_SIZE_MS } from '../../src/room/roomAudioOutput.ts';
import { join, liveKitEnv, uniqueRoom } from '../../test/room/helpers/livekit.ts';
import { liveKitServerPid, OtherCpu, OwnCpu } from './procCpu.ts';
import { round, sleep } from './stats.ts';
import { spawnUsers, stopUsers, usersReady, type UserSimKind } from './userSim.ts';


function readMicrophone(room: Room, frames: { n: number }): void {
  room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    const reader = new AudioStream(track, { sampleRate: 16000, numChannels: 1, frameSizeMs: 50 }).getReader();
    void (async () => {
      for (;;) {
        const { done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
        frames.n++;
      }
    })();
  });
}

export async function transportLevel(users: UserSimKind, n: number, seconds: number) {
  const env = liveKitEnv()!;
  const prefix = uniqueRoom(`bench-transport${n}`);
  const rooms: Room[] = [];
  const sources: AudioSource[] = [];
  const frames = { n: 0 };
  for (let i = 0; i < n; i++) {
    const room = await join(env, `${prefix}-${i}`, `agent-${i}`, { kind: 'agent' });
    readMicrophone(room, frames);
    const source = new AudioSource(24000, 1, DEFAULT_QUEUE_SIZE_MS);
    await room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('roomio_audio', source), new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
    rooms.push(room);
    sources.push(source);
  }
  const child = spawnUsers(users, prefix, n);
  await usersReady(child, () => undefined);
  await sleep(3000);
  const f0 = frames.n;
  const own = OwnCpu.start();
  const usersCpu = OtherCpu.start(child.pid);
  const server = OtherCpu.start(liveKitServerPid());
  await sleep(seconds * 1000);
  const agent = own.stop();
  const usersMs = usersCpu?.stop();
  const serverMs = server?.stop();
  const receivedAudioSeconds = ((frames.n - f0) * 50) / 1000;
  await stopUsers(child);
  for (const s of sources) await s.close();
  for (const r of rooms) await r.disconnect();
  const per = (ms: number | undefined) => (ms === undefined ? undefined : round(ms / n / seconds, 1));
  return {
    rooms: n,
    /** Seconds of microphone audio the agent side read per room and second: 1 while the transport keeps up. */
    audioInRealTime: round(receivedAudioSeconds / n / seconds, 3),
    cpuMsPerRoomSecond: { agent: per(agent.total), agentJsMain: per(agent.jsMain), agentNative: per(agent.native), users: per(usersMs), server: per(serverMs) },
    /** The whole machine's CPU for this level, of the 2,000 ms a second that 2 cores give. */
    machineMsPerSecond: round(((agent.total ?? 0) + (usersMs ?? 0) + (serverMs ?? 0)) / seconds, 0),
  };
}
