/**
 * Background audio in a session, in virtual time: what reaches the device (sample for sample), when the thinking
 * sound plays, and that speech, interruptions, false-interruption resume, transcripts and history are as without it.
 */
import { NEVER, Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, AgentSession, AudioFormatError, AudioFrame, BackgroundAudioPlayer, BuiltinAudioClip, type BackgroundAudioPlayerOptions } from '../src/index.ts';
import { encodeWav } from '../src/audio/wav.ts';
import { FakeAudioOutput, FakeLLM, FakeSTT, FakeTextOutput, FakeTTS, FakeVAD, recordEvents, UserSpeechScript, type FakeLLMResponse, type FakeTTSResponse, type ScriptedUtterance } from '../src/testing/index.ts';
import { historyText, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const RATE = 24000;

/** A FakeAudioOutput that also keeps every frame it was given, by device segment. */
class RecordingOutput extends FakeAudioOutput {
  readonly frames: Array<{ at: number; segment: number; data: Int16Array }> = [];
  private segment = 0;
  constructor(opts: { canPause?: boolean } = {}) {
    super(opts);
    this.events$.subscribe((e) => e.type === 'playback_finished' && this.segment++);
  }
  override captureFrame(frame: AudioFrame): void {
    this.frames.push({ at: Date.now(), segment: this.segment, data: frame.data.slice() });
    super.captureFrame(frame);
  }
  /** Every sample the device was given, in order. */
  samples(): number[] {
    return this.frames.flatMap((f) => [...f.data]);
  }
  segmentSamples(i: number): number[] {
    return this.frames.filter((f) => f.segment === i).flatMap((f) => [...f.data]);
  }
}

/** WAV bytes of one second of a constant (or of a function of the sample index). */
const wav = (value: number | ((i: number) => number), seconds = 1) =>
  encodeWav([new AudioFrame(Int16Array.from({ length: RATE * seconds }, (_, i) => (typeof value === 'number' ? value : value(i))), RATE, 1, RATE * seconds)]);

interface Opts {
  utterances?: ScriptedUtterance[];
  llm?: FakeLLMResponse[];
  tts?: FakeTTSResponse[];
  canPause?: boolean;
  background?: BackgroundAudioPlayerOptions | null;
}

async function start(o: Opts) {
  const script = new UserSpeechScript(o.utterances ?? []);
  const session = new AgentSession({ vad: new FakeVAD(script), stt: new FakeSTT(script), llm: new FakeLLM(o.llm ?? []), tts: new FakeTTS(o.tts ?? []),
    // These scenarios barge in during the first reply: no AEC warm-up (its own tests are in turnHandling.test.ts).
    turnHandling: { aecWarmupDuration: 0 } });
  const device = new RecordingOutput({ canPause: o.canPause });
  const text = new FakeTextOutput();
  session.output.audio = device;
  session.output.transcription = text;
  session.input.audio = NEVER;
  const rec = recordEvents(session);
  const bg = o.background === null ? null : new BackgroundAudioPlayer(o.background);
  const base = Date.now();
  if (bg) await bg.start({ session });
  await session.start({ agent: new Agent({ instructions: 'test' }) });
  const at = (ms: number) => vi.advanceTimersByTimeAsync(Math.max(0, base + ms - Date.now()));
  return { session, device, text, rec, bg, base, at };
}

const hello = { start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 };
const LONG = 'One two three four five six seven eight.';

describe('background audio in a session', () => {
  it('joins the session’s actor system and mixes into its output', async () => {
    const h = await start({ background: { ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE } });
    expect(h.session._rootActor.system.get('backgroundAudio')).toBe(h.bg!.actor);
    expect(h.session.output.audio).not.toBe(h.device);
    expect(h.session.output.audio!.label).toBe('background-mix(fake-audio-output)');
    await h.at(500);
    // The ambience is pumped in real time though the agent is silent: about the lead ahead of what played.
    const pushed = h.device.samples().length / (RATE / 1000);
    expect(pushed).toBeGreaterThanOrEqual(500);
    expect(pushed).toBeLessThanOrEqual(500 + 60 + 20);
    expect(h.device.samples().some((s) => s !== 0)).toBe(true);
    await h.session.close();
  });

  it('the ambience loop is continuous across the agent’s speech: the device gets one unbroken ramp', async () => {
    const N = 1000;
    const h = await start({
      utterances: [hello],
      llm: [{ input: 'Hello', content: 'Hi there.', ttft: 100, duration: 100 }],
      tts: [{ input: 'Hi there.', ttfb: 50, duration: 700 }],
      background: { ambientSound: { source: wav((i) => i % N, 1) } },
    });
    await h.at(4000);
    const all = h.device.samples();
    // FakeTTS speaks silence: ambient + agent = ambient, so any gap or skip at a hand-over breaks the ramp.
    expect(all.length).toBeGreaterThan(RATE * 3);
    const breaks = all.findIndex((s, i) => s !== i % N);
    expect(breaks).toBe(-1);
    // ...and the agent's segment was one of the device's segments, exactly as long as its speech.
    expect(h.device.segments.some((s) => s.pushedMs === 700 && !s.interrupted)).toBe(true);
    await h.session.close();
  });

  it('thinking sound: starts when the agent thinks, stops at its first frame of speech, not back while it listens', async () => {
    const h = await start({
      utterances: [hello],
      llm: [{ input: 'Hello', content: 'Hi there.', ttft: 500, duration: 100 }],
      tts: [{ input: 'Hi there.', ttfb: 200, duration: 600 }],
      background: { ambientSound: { source: wav(100) }, thinkingSound: { source: wav(1000), volume: 0.5 } },
    });
    await h.at(5000);
    const thinkingAt = h.rec.of('agent_state_changed').find((e) => e.newState === 'thinking')!.createdAt;
    const speakingAt = h.rec.of('agent_state_changed').find((e) => e.newState === 'speaking')!.createdAt;
    const listeningAt = h.rec.of('agent_state_changed').filter((e) => e.newState === 'listening').at(-1)!.createdAt;
    const valueOf = (f: { data: Int16Array }) => f.data[0];
    const before = h.device.frames.filter((f) => f.at < thinkingAt);
    const during = h.device.frames.filter((f) => f.at > thinkingAt && f.at < speakingAt - 60);
    const agentSeg = h.device.segments.findIndex((s) => s.pushedMs === 600);
    const agentFrames = h.device.frames.filter((f) => f.segment === agentSeg);
    const after = h.device.frames.filter((f) => f.at > listeningAt);
    expect(before.length && before.every((f) => valueOf(f) === 100)).toBeTruthy();
    expect(during.length && during.every((f) => valueOf(f) === 600)).toBeTruthy(); // ambient 100 + thinking 1000 × 0.5
    expect(agentFrames.length && agentFrames.every((f) => f.data.every((s) => s === 100))).toBeTruthy(); // no thinking in the voice
    expect(after.length && after.every((f) => valueOf(f) === 100)).toBeTruthy();
    expect(h.bg!.actor!.getSnapshot().matches({ active: { sound: 'calm' } })).toBe(true);
    await h.session.close();
  });

  it('a list of thinking sounds is drawn from each time the agent thinks (probability, rest silence)', async () => {
    const draws = [0.1, 0.9];
    const h = await start({
      utterances: [hello, { start: 3000, end: 3500, transcript: 'Again', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: 'Hi.', ttft: 500 }, { input: 'Again', content: 'Hi again.', ttft: 500 }],
      tts: [{ input: 'Hi.', duration: 300 }, { input: 'Hi again.', duration: 300 }],
      background: { thinkingSound: [{ source: wav(700), probability: 0.5 }], random: () => draws.shift() ?? 0.9 },
    });
    await h.at(6000);
    const thinking = h.rec.of('agent_state_changed').filter((e) => e.newState === 'thinking').map((e) => e.createdAt);
    expect(thinking).toHaveLength(2);
    const nonZeroAfter = (t: number) => h.device.frames.some((f) => f.at > t && f.at < t + 300 && f.data[0] === 700);
    expect([nonZeroAfter(thinking[0]!), nonZeroAfter(thinking[1]!)]).toEqual([true, false]);
    await h.session.close();
  });

  it('volume 0: the agent’s speech reaches the device sample for sample; volume 1 adds the clip exactly', async () => {
    const speech = Array.from({ length: RATE / 2 }, (_, i) => Math.round(20000 * Math.sin(i / 7)));
    const say = (s: AgentSession) =>
      s.say('A tone.', { audio: new Observable<AudioFrame>((sub) => {
        for (let i = 0; i < speech.length; i += 480) sub.next(new AudioFrame(Int16Array.from(speech.slice(i, i + 480)), RATE, 1, 480));
        sub.complete();
      }) });
    for (const [volume, expected] of [
      [0, speech],
      [1, speech.map((x) => Math.max(-32768, Math.min(32767, x + 15000)))],
    ] as const) {
      const h = await start({ background: { ambientSound: { source: wav(15000), volume } } });
      await h.at(300);
      say(h.session);
      await h.at(1500);
      const seg = h.device.segments.findIndex((s) => s.pushedMs === 500);
      expect(seg).toBeGreaterThan(0); // background segments came first
      expect(h.device.segmentSamples(seg)).toEqual(expected);
      await h.session.close();
    }
  });

  it('history, transcripts and playback are those of the same conversation without background audio', async () => {
    const script = {
      utterances: [hello, { start: 4000, end: 5000, transcript: 'Thanks', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: 'Hi there, how can I help?', ttft: 200, duration: 300 }, { input: 'Thanks', content: 'You are welcome.', ttft: 100 }],
      tts: [{ input: 'Hi there, how can I help?', ttfb: 100, duration: 1500 }, { input: 'You are welcome.', duration: 1000 }],
    };
    const run = async (background: BackgroundAudioPlayerOptions | null) => {
      const h = await start({ ...script, background });
      await h.at(9000);
      const agentSegments = h.device.segments.filter((s) => [1500, 1000].includes(s.pushedMs)).map((s) => [s.pushedMs, s.playedMs, s.interrupted]);
      const out = { history: historyText(h.session), text: h.text.segments, states: h.rec.agentStates(), agentSegments, items: h.rec.of('conversation_item_added').length };
      await h.session.close();
      return out;
    };
    const plain = await run(null);
    const mixed = await run({ ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE, thinkingSound: BuiltinAudioClip.KEYBOARD_TYPING });
    expect(plain.history.slice(1)).toEqual(['user: Hello', 'assistant: Hi there, how can I help?', 'user: Thanks', 'assistant: You are welcome.']);
    expect(mixed).toEqual(plain);
  });

  it('an interruption cuts the agent exactly where it was heard (within the hand-over lead of the plain run)', async () => {
    const script = {
      utterances: [hello, { start: 3000, end: 4000, transcript: 'stop', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: LONG, ttft: 200, duration: 400 }, { input: 'stop', content: 'OK.', ttft: 100, duration: 100 }],
      tts: [{ input: LONG, ttfb: 100, duration: 4000 }, { input: 'OK.', ttfb: 0, duration: 500 }],
    };
    const run = async (background: BackgroundAudioPlayerOptions | null) => {
      const h = await start({ ...script, background });
      await h.at(8000);
      const cut = h.device.segments.find((s) => s.pushedMs === 4000)!;
      // When the agent's voice became audible, ms after the harness started (the user barges in at 3500).
      const audibleAt = h.rec.of('agent_state_changed').find((e) => e.newState === 'speaking')!.createdAt - h.base;
      const assistant = h.session.history.messages().filter((m) => m.role === 'assistant');
      const out = { cut, audibleAt, assistant: assistant.map((m) => [m.content.join(' '), m.interrupted]), text: h.text.segments };
      await h.session.close();
      return out;
    };
    const plain = await run(null);
    const mixed = await run({ ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE, thinkingSound: BuiltinAudioClip.KEYBOARD_TYPING });
    expect(plain.cut).toMatchObject({ interrupted: true, playedMs: 1500 });
    expect(mixed.cut.interrupted).toBe(true);
    // The agent's audio waited at most the lead for the background segment before it: heard that much less.
    expect(plain.cut.playedMs - mixed.cut.playedMs).toBeGreaterThanOrEqual(0);
    expect(plain.cut.playedMs - mixed.cut.playedMs).toBeLessThanOrEqual(60);
    // Positions are the device's own: heard from the agent's first audible frame up to the barge-in.
    expect(plain.cut.playedMs).toBe(3500 - plain.audibleAt);
    expect(mixed.cut.playedMs).toBe(3500 - mixed.audibleAt);
    const [heard, interrupted] = mixed.assistant[0]!;
    expect(interrupted).toBe(true);
    expect(LONG.startsWith(heard as string)).toBe(true);
    expect(mixed.assistant[1]).toEqual(['OK.', false]);
    // The synced transcript of the cut reply is what the history kept.
    expect(mixed.text[0]!.trim()).toBe(heard);
  });

  it('false interruption on a pausable output: paused, resumed, the speech completes, as without background', async () => {
    const h = await start({
      utterances: [hello, { start: 3000, end: 3700 }],
      llm: [{ input: 'Hello', content: LONG, ttft: 200, duration: 400 }],
      tts: [{ input: LONG, ttfb: 100, duration: 4000 }],
      canPause: true,
      background: { ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE },
    });
    await h.at(12000);
    expect(h.device.pauseCount).toBe(1);
    expect(h.rec.of('agent_false_interruption').map((e) => e.resumed)).toEqual([true]);
    expect(h.device.segments.filter((s) => s.pushedMs === 4000)).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    expect(h.rec.agentStates()).toEqual(['listening', 'thinking', 'speaking', 'listening', 'speaking', 'listening']);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${LONG}`]);
    await h.session.close();
  });

  it('started while the agent speaks: takes the output over only once it listens, so that speech is untouched', async () => {
    const h = await start({
      utterances: [hello],
      llm: [{ input: 'Hello', content: 'Hi there.', ttft: 100 }],
      tts: [{ input: 'Hi there.', duration: 1000 }],
      background: null,
    });
    while (h.session.agentState !== 'speaking') await vi.advanceTimersByTimeAsync(10);
    expect(h.session.agentState).toBe('speaking');
    const bg = new BackgroundAudioPlayer({ ambientSound: { source: wav(50) } });
    await bg.start({ session: h.session });
    expect(h.session.output.audio).toBe(h.device);
    expect(bg.actor!.getSnapshot().value).toBe('attaching');
    await h.at(4000);
    expect(h.device.segments[0]).toMatchObject({ pushedMs: 1000, interrupted: false, playedMs: 1000 });
    expect(h.device.segmentSamples(0).every((s) => s === 0)).toBe(true);
    expect(h.session.output.audio).not.toBe(h.device);
    expect(h.device.frames.at(-1)!.data[0]).toBe(50);
    await h.session.close();
  });

  it('bg.close() stops every sound and the pump; the agent still speaks through', async () => {
    const h = await start({
      utterances: [{ start: 2000, end: 2500, transcript: 'Hello', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: 'Hi.', ttft: 100 }],
      tts: [{ input: 'Hi.', duration: 500 }],
      background: { ambientSound: { source: wav(100) } },
    });
    await h.at(1000);
    const handle = h.bg!.play({ source: wav(7) }, { loop: true });
    await h.at(1100);
    expect(handle.playing).toBe(true);
    await h.bg!.close();
    const count = h.device.frames.length;
    await h.at(1900);
    expect(h.device.frames.length).toBe(count);
    expect(handle.playing).toBe(false);
    await expect(handle.done).resolves.toBeUndefined();
    expect(() => h.bg!.play(BuiltinAudioClip.SOFT_CHIME)).toThrow(/the player is closed/);
    await h.at(5000);
    const agent = h.device.segments.find((s) => s.pushedMs === 500);
    expect(agent).toMatchObject({ interrupted: false, playedMs: 500 });
    expect(h.device.frames.slice(count).every((f) => f.data.every((s) => s === 0))).toBe(true);
    await h.session.close();
  });

  it('session close stops everything: no timer left, the bare device back in place', async () => {
    const baseline = await start({ background: null });
    await baseline.session.close();
    const idleTimers = vi.getTimerCount();
    const h = await start({ background: { ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE, thinkingSound: BuiltinAudioClip.KEYBOARD_TYPING } });
    await h.at(1000);
    expect(vi.getTimerCount()).toBeGreaterThan(idleTimers);
    await h.session.close();
    expect(vi.getTimerCount()).toBe(idleTimers);
    expect(h.rec.of('error')).toEqual([]);
    expect(h.bg!.actor!.getSnapshot().status).toBe('stopped');
    expect(h.session.output.audio).toBe(h.device);
    expect(h.session._rootActor.system.get('backgroundAudio')).toBeUndefined();
    const count = h.device.frames.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.device.frames.length).toBe(count);
  });

  it('a bad WAV: start() rejects with an AudioFormatError naming it; play() reports it and the session goes on', async () => {
    const session = new AgentSession({ llm: new FakeLLM([]), tts: new FakeTTS([]) });
    session.output.audio = new RecordingOutput();
    const bad = new BackgroundAudioPlayer({ ambientSound: '/nonexistent/ambience.wav' });
    await expect(bad.start({ session })).rejects.toThrow(AudioFormatError);
    await expect(new BackgroundAudioPlayer({ thinkingSound: { source: new TextEncoder().encode('RIFF????WAVEjunk') } }).start({ session })).rejects.toThrow(/background audio clip/);
    expect(() => new BackgroundAudioPlayer({ ambientSound: { source: 'x.wav', volume: 9 } })).toThrow(TypeError);

    const h = await start({ background: {} });
    const errors = recordEvents(h.session);
    const handle = h.bg!.play('/nonexistent/beep.wav');
    await expect(handle.done).rejects.toThrow(/background audio clip \/nonexistent\/beep\.wav/);
    expect(errors.of('error').map((e) => [e.label, e.recoverable])).toEqual([['background audio', true]]);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });

  it('start() without an audio output is a clear error', async () => {
    const session = new AgentSession({});
    await expect(new BackgroundAudioPlayer({}).start({ session })).rejects.toThrow(/has no audio output/);
  });
});

describe('background audio with a room', () => {
  /** Enough of an @livekit/rtc-node Room for a RoomIO that is never connected. */
  const fakeRoom = () => ({ on() {}, off() {}, remoteParticipants: new Map(), isConnected: false, localParticipant: undefined, name: 'r' });

  it('start({ session, room }) before the session starts mixes into that RoomIO’s audio output', async () => {
    const { RoomIO } = await import('../src/room/roomIO.ts');
    const session = new AgentSession({ llm: new FakeLLM([]), tts: new FakeTTS([]) });
    const room = fakeRoom();
    const io = new RoomIO(session, room as never, { inputOptions: { deleteRoomOnClose: false } });
    const roomAudio = io.audioOutput!;
    await expect(new BackgroundAudioPlayer({}).start({ session, room: fakeRoom() })).rejects.toThrow(/does not serve this room/);
    const bg = new BackgroundAudioPlayer({ ambientSound: BuiltinAudioClip.OFFICE_AMBIENCE });
    await bg.start({ session, room });
    expect(io.audioOutput).not.toBe(roomAudio);
    expect(io.audioOutput!.label).toBe('background-mix(livekit-room-audio)');
    expect(io.audioOutput!.sampleRate).toBe(roomAudio.sampleRate);
    await bg.close();
    await io.close();
  });
});
