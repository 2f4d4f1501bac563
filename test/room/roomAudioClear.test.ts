/**
 * The room audio output across a barge-in on the real server: a clear while a capture is in flight (the source's
 * queue is full) must silence the old reply and lose nothing of the reply that follows at once.
 */
import { TrackPublishOptions, TrackSource, type Room } from '@livekit/rtc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioFrame } from '../../src/audio/frame.ts';
import { RoomAudioOutput } from '../../src/room/index.ts';
import { join, liveKitEnv, recordAudioFrom, uniqueRoom, until } from './helpers/livekit.ts';

const env = liveKitEnv();
const RATE = 24000;
const tone = (ms: number, amplitude: number) => {
  const n = (RATE * ms) / 1000;
  const d = new Int16Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / RATE));
  return new AudioFrame(d, RATE, 1, n);
};

describe.skipIf(!env)('room audio output: a clear with a capture in flight', () => {
  const rooms: Room[] = [];
  afterAll(async () => {
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  it('silences the old segment at once and plays the next segment whole', async () => {
    const name = uniqueRoom('clear');
    const agentRoom = await join(env!, name, 'agent-1', { kind: 'agent' });
    const userRoom = await join(env!, name, 'user-1');
    rooms.push(agentRoom, userRoom);
    const heard = recordAudioFrom(userRoom, 'agent-1');
    const out = new RoomAudioOutput(agentRoom, { sampleRate: RATE, numChannels: 1, trackName: 'roomio_audio', publishOptions: new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }) });
    const finished: Array<{ interrupted: boolean; playbackPosition: number }> = [];
    out.events$.subscribe((e) => e.type === 'playback_finished' && finished.push(e));
    // A loud 3 s segment: its frames wait for room in the 200 ms queue, one capture always in flight.
    out.captureFrame(tone(3000, 12000));
    out.flush();
    await until(() => heard.frames.some((f) => f.level > 3000), 10_000, 'the first segment to be heard');
    await new Promise((r) => setTimeout(r, 500));
    out.clearBuffer();
    const clearedAt = Date.now();
    // The next segment at once, quieter, so the two can be told apart: 600 ms.
    out.captureFrame(tone(600, 3000));
    out.flush();
    await until(() => finished.length === 2, 10_000, 'the second segment to finish');
    await new Promise((r) => setTimeout(r, 300));
    heard.stop();
    expect(finished[0]!.interrupted).toBe(true);
    expect(finished[1]).toEqual({ type: 'playback_finished', interrupted: false, playbackPosition: 600 });
    // Loud audio stops within the transport's delay (no more than the queue that was dropped plus one piece).
    const loudAfter = heard.frames.filter((f) => f.level > 5000 && f.at > clearedAt + 150);
    expect(loudAfter).toEqual([]);
    // The quiet segment is heard whole (10 ms frames with its level; the tone's mean level is ~1900).
    const quietMs = heard.frames.filter((f) => f.at > clearedAt && f.level > 1000 && f.level < 5000).reduce((s, f) => s + f.ms, 0);
    expect(quietMs).toBeGreaterThan(540);
    expect(quietMs).toBeLessThan(700);
    out.close();
  }, 40_000);
});
