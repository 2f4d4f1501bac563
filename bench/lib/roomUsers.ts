/**
 * Child process of the rooms bench: N rtc-node participants play users in rooms `<prefix>-<i>`, each speaking the
 * fixture utterance, then 3 s of silence, again and again. Prints "ready" once all have joined and published.
 * argv: prefix count
 */
import { dispose } from '@livekit/rtc-node';
import { join, liveKitEnv, Microphone, wavFrames } from '../../test/room/helpers/livekit.ts';

const [prefix, countArg] = process.argv.slice(2);
const env = liveKitEnv()!;
const count = Number(countArg);
// 40 ms frames: a quarter of the native calls of 10 ms ones, so this harness stays light beside the agents.
const FRAME_MS = 40;
const speech = await wavFrames(new URL('../../test/fixtures/utterance-a-16k.wav', import.meta.url).pathname, FRAME_MS);
const mics: Microphone[] = [];
for (let i = 0; i < count; i++) {
  const room = await join(env, `${prefix}-${i}`, `user-${i}`);
  mics.push(await Microphone.publish(room, 16000, 'mic', FRAME_MS));
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
