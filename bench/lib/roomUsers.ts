/**
 * Child process of the rooms bench: N rtc-node participants play users in rooms `<prefix>-<i>`, each speaking the
 * fixture utterance, then 3 s of silence, again and again. Prints "ready" once all have joined and published, and
 * "heard <i>" when user i heard the agent's first reply (a loud frame of its track).
 *
 * Kept cheap, since it shares the machine with the agent process it measures: 100 ms frames (a tenth of the native
 * calls of 10 ms ones), and each user drops its subscription to the agent's audio once it has heard the first reply
 * (a subscribed track is decoded natively all the time, speech or not).
 * argv: prefix count
 */
import { AudioStream, dispose, type RemoteTrack, type RemoteTrackPublication, RoomEvent, TrackKind } from '@livekit/rtc-node';
import type { Room } from '@livekit/rtc-node';
import { join, liveKitEnv, Microphone, wavFrames } from '../../test/room/helpers/livekit.ts';

const [prefix, countArg] = process.argv.slice(2);
const env = liveKitEnv()!;
const count = Number(countArg);
const FRAME_MS = 100;
const SAMPLE_RATE = 16000;
/** Mean absolute amplitude of a frame of the agent's tone (6000 peak); silence and codec noise stay far below. */
const LOUD = 500;

/** Listens to the agent's track until one loud frame arrives, then reports it and unsubscribes. */
function checkFirstReply(room: Room, i: number): void {
  let done = false;
  const onTrack = (track: RemoteTrack, pub: RemoteTrackPublication) => {
    if (done || track.kind !== TrackKind.KIND_AUDIO) return;
    done = true;
    const reader = new AudioStream(track, { sampleRate: SAMPLE_RATE, numChannels: 1, frameSizeMs: 100 }).getReader();
    void (async () => {
      for (;;) {
        const { value, done: ended } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (ended || !value) return;
        let s = 0;
        for (const x of value.data) s += Math.abs(x);
        if (s / Math.max(1, value.data.length) < LOUD) continue;
        process.stdout.write(`heard ${i}\n`);
        await reader.cancel().catch(() => undefined);
        room.off(RoomEvent.TrackSubscribed, onTrack);
        pub.setSubscribed(false);
        return;
      }
    })();
  };
  room.on(RoomEvent.TrackSubscribed, onTrack);
  for (const p of room.remoteParticipants.values()) for (const pub of p.trackPublications.values()) if (pub.track) onTrack(pub.track as RemoteTrack, pub as RemoteTrackPublication);
}

const speech = await wavFrames(new URL('../../test/fixtures/utterance-a-16k.wav', import.meta.url).pathname, FRAME_MS);
const mics: Microphone[] = [];
for (let i = 0; i < count; i++) {
  const room = await join(env, `${prefix}-${i}`, `user-${i}`);
  checkFirstReply(room, i);
  mics.push(await Microphone.publish(room, SAMPLE_RATE, 'mic', FRAME_MS));
}
process.stdout.write('ready\n');
let stopped = false;
process.on('SIGTERM', () => {
  stopped = true;
  void Promise.all(mics.map((m) => m.stop())).then(() => dispose()).finally(() => process.exit(0));
});
// Staggered, so the rooms do not all speak at once.
await Promise.all(
  mics.map(async (m, i) => {
    await new Promise((r) => setTimeout(r, (i * 4900) / count));
    while (!stopped) {
      await m.say(speech);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }),
);
