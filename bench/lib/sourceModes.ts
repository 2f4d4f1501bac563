/**
 * The rooms bench's look at rtc-node's AudioSource modes (`VC_BENCH_ROOM_SOURCE_MODES=1`), the evidence for the room
 * audio output keeping a native queue (src/room/roomAudioOutput.ts, checkQueueSize):
 * - quietCpu: ms of CPU per room-second of agent tracks published and quiet, queued (the native side encodes and
 *   sends 10 ms of silence every 10 ms) and unqueued (`queueSizeMs: 0`: nothing is sent between captures). The
 *   difference is what unqueued output would save in a quiet room.
 * - heard: a 600 ms tone, then 3 s of nothing, five times, captured in 10 ms frames paced from JavaScript (40 ms a
 *   step, as the output hands pieces on), and how long and how late the user hears each one.
 */
import { AudioFrame as RtcAudioFrame, AudioSource, LocalAudioTrack, type Room, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { audibleSpans, join, liveKitEnv, recordAudioFrom, uniqueRoom } from '../../test/room/helpers/livekit.ts';
import { processCpuMs } from './procCpu.ts';
import { round, sleep, summary } from './stats.ts';

const RATE = 24000;
const FRAME = RATE / 100;

async function publish(room: Room, queueSizeMs: number): Promise<AudioSource> {
  const source = new AudioSource(RATE, 1, queueSizeMs);
  await room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('out', source), new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
  return source;
}

async function quietCpu(queueSizeMs: number, rooms: number, seconds: number) {
  const env = liveKitEnv()!;
  const joined: Room[] = [];
  const sources: AudioSource[] = [];
  for (let i = 0; i < rooms; i++) {
    const r = await join(env, uniqueRoom(`bench-quiet${queueSizeMs}-${i}`), `agent-${i}`, { kind: 'agent' });
    joined.push(r);
    sources.push(await publish(r, queueSizeMs));
  }
  await sleep(2000);
  const c0 = processCpuMs(process.pid)!;
  await sleep(seconds * 1000);
  const ms = processCpuMs(process.pid)! - c0;
  for (const s of sources) await s.close();
  for (const r of joined) await r.disconnect();
  return round(ms / rooms / seconds, 2);
}

const tone = (i: number) => {
  const d = new Int16Array(FRAME);
  for (let k = 0; k < FRAME; k++) d[k] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * (i * FRAME + k)) / RATE));
  return new RtcAudioFrame(d, RATE, 1, FRAME);
};

async function heard(queueSizeMs: number) {
  const env = liveKitEnv()!;
  const name = uniqueRoom(`bench-heard${queueSizeMs}`);
  const agent = await join(env, name, 'agent-1', { kind: 'agent' });
  const user = await join(env, name, 'user-1');
  const rec = recordAudioFrom(user, 'agent-1');
  const source = await publish(agent, queueSizeMs);
  await sleep(1500);
  const sentAt: number[] = [];
  for (let burst = 0; burst < 5; burst++) {
    const t0 = performance.now();
    sentAt.push(Date.now());
    for (let i = 0; i < 60; i += 4) {
      const wait = t0 + i * 10 - performance.now();
      if (wait > 0) await sleep(wait);
      for (let j = i; j < i + 4; j++) await source.captureFrame(tone(j));
    }
    await sleep(3000);
  }
  rec.stop();
  const spans = audibleSpans(rec, 500, 300);
  await source.close();
  await user.disconnect();
  await agent.disconnect();
  const late = spans.map((s, i) => s.start - (sentAt[i] ?? s.start));
  return { sentMs: 600, replies: spans.length, heardMs: summary(spans.map((s) => s.end - s.start)), lateMs: summary(late) };
}

export async function sourceModes() {
  const rooms = Number(process.env.VC_BENCH_ROOM_SOURCE_ROOMS ?? 10);
  const seconds = Number(process.env.VC_BENCH_ROOM_SOURCE_SECONDS ?? 10);
  const queued = await quietCpu(200, rooms, seconds);
  const unqueued = await quietCpu(0, rooms, seconds);
  return {
    quietCpuMsPerRoomSecond: { queued200: queued, unqueued, savedByUnqueued: round(queued - unqueued, 2), rooms, seconds },
    heardTone: { queued200: await heard(200), unqueued: await heard(0) },
  };
}
