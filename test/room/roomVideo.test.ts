/** Video input on the real server: a participant publishes a synthetic camera track; frames reach the LLM. */
import { LocalVideoTrack, TrackPublishOptions, TrackSource, VideoBufferType, VideoFrame, VideoSource, type Room } from '@livekit/rtc-node';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.ts';
import type { ChatContext, ChatMessage, RgbaImage } from '../../src/llm/chatContext.ts';
import { toWireMessages } from '../../src/plugins/openai/chatFormat.ts';
import { FliteTTS } from '../../src/plugins/flite/index.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import { roomIOOf } from '../../src/room/index.ts';
import type { VideoSampler } from '../../src/room/videoSampler.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import { FakeLLM } from '../../src/testing/index.ts';
import { VadScriptedSTT } from './helpers/agent.ts';
import { join, liveKitEnv, Microphone, uniqueRoom, until, wavFrames } from './helpers/livekit.ts';

const env = liveKitEnv();
const W = 64;
const H = 48;

/** A camera that sends a solid colour at 10 fps. */
async function publishCamera(room: Room): Promise<() => void> {
  const source = new VideoSource(W, H);
  const track = LocalVideoTrack.createVideoTrack('camera', source);
  await room.localParticipant!.publishTrack(track, new TrackPublishOptions({ source: TrackSource.SOURCE_CAMERA }));
  const rgba = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([200, 40, 30, 255], i * 4);
  const timer = setInterval(() => source.captureFrame(new VideoFrame(rgba, W, H, VideoBufferType.RGBA)), 100);
  return () => clearInterval(timer);
}

describe.skipIf(!env)('RoomIO video input on a real LiveKit server', () => {
  let vad: SileroVAD;
  const rooms: Room[] = [];
  const stops: Array<() => void> = [];
  beforeAll(async () => {
    vad = await SileroVAD.load();
  });
  afterAll(async () => {
    for (const s of stops) s();
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  async function setup(videoSampler?: VideoSampler | null) {
    const name = uniqueRoom('video');
    const agentRoom = await join(env!, name, 'agent-1', { kind: 'agent' });
    const userRoom = await join(env!, name, 'user-1');
    rooms.push(agentRoom, userRoom);
    stops.push(await publishCamera(userRoom));
    const mic = await Microphone.publish(userRoom);
    const llm = new FakeLLM([{ input: 'What do you see?', content: 'Something red.', ttft: 50, duration: 100 }]);
    const contexts: ChatContext[] = [];
    const chat = llm.chat.bind(llm);
    llm.chat = (req) => (contexts.push(req.chatCtx), chat(req));
    const session = new AgentSession({ vad, stt: new VadScriptedSTT(vad, ['What do you see?']), llm, tts: new FliteTTS(), userAwayTimeout: null, videoSampler });
    const speaking: Array<[number, string]> = [];
    session.on('user_state_changed', (e) => speaking.push([Date.now(), e.newState]));
    await session.start({ agent: new Agent({ instructions: 'You see.' }), room: agentRoom, roomInputOptions: { deleteRoomOnClose: false, videoEnabled: true } });
    return { session, mic, contexts, speaking, io: roomIOOf(session)! };
  }

  it('the default sampler keeps ~0.3 fps while the user is silent and ~1 fps while they speak; the turn carries the latest frame to the LLM as JPEG', async () => {
    const t = await setup();
    await until(() => t.io.videoInput!.samples.length > 0, 10_000, 'the first frame');
    await new Promise((r) => setTimeout(r, 6500));
    const silent = t.io.videoInput!.samples.map((s) => s.receivedAt);
    // Silent: a frame every ~3.3 s (frames arrive every 100 ms).
    expect(silent.length).toBeGreaterThanOrEqual(2);
    expect(silent.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < silent.length; i++) expect(silent[i]! - silent[i - 1]!).toBeGreaterThanOrEqual(3300);
    expect(t.io.videoInput!.samples[0]).toMatchObject({ width: W, height: H });

    await t.mic.say([...(await wavFrames('test/fixtures/speech-16k.wav'))]);
    await until(() => t.contexts.length > 0, 20_000, 'the LLM request');
    const from = t.speaking.find(([, s]) => s === 'speaking')![0];
    const to = t.speaking.find(([at, s]) => s === 'listening' && at > from)?.[0] ?? Date.now();
    const during = t.io.videoInput!.samples.map((s) => s.receivedAt).filter((at) => at >= from && at <= to);
    // Speaking: about one per second over the utterance.
    const expected = (to - from) / 1000;
    expect(during.length).toBeGreaterThanOrEqual(Math.floor(expected) - 1);
    expect(during.length).toBeLessThanOrEqual(Math.ceil(expected) + 1);
    for (let i = 1; i < during.length; i++) expect(during[i]! - during[i - 1]!).toBeGreaterThanOrEqual(1000);

    const userMsg = t.contexts[0]!.items.filter((i): i is ChatMessage => i.type === 'message' && i.role === 'user').at(-1)!;
    expect(userMsg.images).toHaveLength(1);
    const img = userMsg.images![0]!.image as RgbaImage;
    expect([img.width, img.height]).toEqual([W, H]);
    // The colour survives the camera's I420 round trip (within its rounding).
    const [r, g, b] = img.rgba.subarray(0, 3);
    expect(Math.abs(r! - 200)).toBeLessThan(20);
    expect(Math.abs(g! - 40)).toBeLessThan(20);
    expect(Math.abs(b! - 30)).toBeLessThan(20);
    // The OpenAI wire format: the text, then the frame as a JPEG data URL that decodes to the same picture.
    const wire = toWireMessages(t.contexts[0]!).filter((m) => m.role === 'user').at(-1)!;
    expect(Array.isArray(wire.content)).toBe(true);
    const parts = wire.content as Array<{ type: string; text?: string; image_url?: { url: string } }>;
    expect(parts[0]).toEqual({ type: 'text', text: 'What do you see?' });
    const url = parts[1]!.image_url!.url;
    expect(url.startsWith('data:image/jpeg;base64,')).toBe(true);
    const decoded = jpeg.decode(Buffer.from(url.slice('data:image/jpeg;base64,'.length), 'base64'));
    expect([decoded.width, decoded.height]).toEqual([W, H]);
    expect(Math.abs(decoded.data[0]! - 200)).toBeLessThan(25);
    await t.session.close();
    await t.mic.stop();
  }, 60_000);

  it('a custom sampler function sets the rate; videoSampler null turns video off', async () => {
    let n = 0;
    const t = await setup(() => n++ % 5 === 0);
    await until(() => t.io.videoInput!.samples.length > 0, 10_000, 'the first frame');
    const at0 = t.io.videoInput!.samples[0]!.receivedAt;
    await new Promise((r) => setTimeout(r, 3000));
    const kept = t.io.videoInput!.samples.filter((s) => s.receivedAt - at0 < 3000).length;
    // Every fifth frame of a 10 fps camera: ~2 per second.
    expect(kept).toBeGreaterThanOrEqual(5);
    expect(kept).toBeLessThanOrEqual(8);
    await t.session.close();
    await t.mic.stop();

    const off = await setup(null);
    expect(off.io.videoInput).toBeNull();
    await off.session.close();
    await off.mic.stop();
  }, 60_000);
});
