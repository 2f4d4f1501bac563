/**
 * RoomIO on the real LiveKit server: an rtc-node participant plays the user (a WAV on its microphone track), the
 * agent (real Silero VAD, scripted recogniser, FakeLLM, Flite TTS) answers through the room.
 */
import type { Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.ts';
import { FliteTTS } from '../../src/plugins/flite/index.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import type { AgentSessionEvent } from '../../src/session/events.ts';
import { FakeLLM } from '../../src/testing/index.ts';
import { roomIOOf, type RoomAudioOutput } from '../../src/room/index.ts';
import { VadScriptedSTT } from './helpers/agent.ts';
import {
  audibleSpans,
  join,
  liveKitEnv,
  Microphone,
  recordAttribute,
  recordAudioFrom,
  recordTranscriptions,
  uniqueRoom,
  until,
  wavFrames,
} from './helpers/livekit.ts';

const env = liveKitEnv();
const REPLY = 'It is twelve o clock. Anything else I can do for you today?';

describe.skipIf(!env)('RoomIO with an rtc-node user on a real LiveKit server', () => {
  let vad: SileroVAD;
  const rooms: Room[] = [];
  beforeAll(async () => {
    vad = await SileroVAD.load();
  });
  afterAll(async () => {
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  async function setup(opts: { llm?: FakeLLM; transcripts?: string[]; roomOutputOptions?: object; roomInputOptions?: object } = {}) {
    const name = uniqueRoom('audio');
    const agentRoom = await join(env!, name, 'agent-1', { kind: 'agent' });
    const userRoom = await join(env!, name, 'user-1');
    rooms.push(agentRoom, userRoom);
    const heard = recordAudioFrom(userRoom, 'agent-1');
    const transcripts = recordTranscriptions(userRoom);
    const states = recordAttribute(userRoom, 'agent-1', 'lk.agent.state');
    const mic = await Microphone.publish(userRoom);
    const stt = new VadScriptedSTT(vad, opts.transcripts ?? ['What time is it?']);
    const llm = opts.llm ?? new FakeLLM([{ input: 'What time is it?', content: REPLY, ttft: 100, duration: 300 }]);
    // The user's "microphone" publishes files (no echo path), and a test barges in during the first reply: no AEC warm-up.
    const session = new AgentSession({ vad, stt, llm, tts: new FliteTTS(), userAwayTimeout: null, turnHandling: { aecWarmupDuration: 0 } });
    const events: AgentSessionEvent[] = [];
    session.events$.subscribe((e) => events.push(e));
    await session.start({
      agent: new Agent({ instructions: 'You tell the time.' }),
      room: agentRoom,
      roomInputOptions: { deleteRoomOnClose: false, ...opts.roomInputOptions },
      roomOutputOptions: opts.roomOutputOptions,
    });
    return { name, agentRoom, userRoom, heard, transcripts, states, mic, stt, llm, session, events };
  }

  it('hears the user, answers with audio the user receives, transcripts on lk.transcription and the lk.agent.state attribute', async () => {
    const t = await setup();
    // Backpressure: the whole reply is synthesised in well under its length, yet the output never runs more than
    // the AudioSource queue (200 ms, plus one 40 ms piece) ahead of playout.
    const out = roomIOOf(t.session)!.audioOutput as RoomAudioOutput;
    let ahead = 0;
    const probe = setInterval(() => (ahead = Math.max(ahead, out.aheadOfPlayoutMs)), 5);
    const finished: number[] = [];
    out.events$.subscribe((e) => e.type === 'playback_finished' && finished.push(Date.now()));
    await t.mic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => t.events.some((e) => e.type === 'agent_state_changed' && e.oldState === 'speaking' && e.newState === 'listening'), 20_000, 'the reply to finish');
    await until(() => t.transcripts.some((s) => s.identity === 'agent-1' && s.closedAt !== null), 3000, 'the agent transcript stream to close');

    // Audio: one audible stretch as long as the synthesised speech.
    const tts = t.events.flatMap((e) => (e.type === 'metrics_collected' && e.metrics.type === 'tts_metrics' ? [e.metrics] : []));
    const synthMs = tts.reduce((s, m) => s + m.audioDurationMs, 0);
    expect(synthMs).toBeGreaterThan(2000);
    const spans = audibleSpans(t.heard);
    expect(spans.length).toBe(1);
    const span = spans[0]!;
    expect(span.end - span.start).toBeGreaterThan(synthMs * 0.75);
    expect(span.end - span.start).toBeLessThan(synthMs * 1.15);
    clearInterval(probe);
    expect(ahead).toBeGreaterThan(100);
    expect(ahead).toBeLessThanOrEqual(245);
    // The segment finishes when its audio has played out, not when it was handed over.
    expect(Math.abs(finished[0]! - span.end)).toBeLessThan(400);

    // Agent transcript: one stream from the agent, final text = what was said, words released while it was heard.
    const agentStreams = t.transcripts.filter((s) => s.identity === 'agent-1');
    expect(agentStreams.length).toBe(1);
    const a = agentStreams[0]!;
    expect(a.text.trim()).toBe(REPLY);
    expect(a.attributes['lk.transcription_final']).toBe('false');
    expect(a.attributes['lk.segment_id']).toMatch(/^SG_/);
    expect(a.attributes['lk.transcribed_track_id']).toMatch(/^TR_/);
    expect(a.chunks.length).toBeGreaterThan(5);
    expect(a.chunks[0]!.at).toBeGreaterThan(span.start - 500);
    expect(a.chunks.at(-1)!.at).toBeGreaterThan(span.start + synthMs * 0.6);
    expect(a.chunks.at(-1)!.at).toBeLessThan(span.end + 800);
    const assistant = t.session.history.messages().filter((m) => m.role === 'assistant');
    expect(assistant.map((m) => m.content.join(''))).toEqual([REPLY]);

    // User transcripts, sent on the user's behalf: an interim, then the final text twice ("false", then "true").
    const user = t.transcripts.filter((s) => s.identity === 'user-1');
    expect(user.map((s) => [s.text, s.attributes['lk.transcription_final']])).toEqual([
      ['What', 'false'],
      ['What time is it?', 'false'],
      ['What time is it?', 'true'],
    ]);
    expect(user[1]!.attributes['lk.segment_id']).toBe(user[2]!.attributes['lk.segment_id']);
    expect(user[2]!.attributes['lk.transcribed_track_id']).toBe(t.mic.sid);

    // The state attribute went through the turn.
    await until(() => t.states.at(-1) === 'listening' && t.states.includes('speaking'), 3000, 'the final state attribute');
    expect(t.states.filter((s, i) => s !== t.states[i - 1])).toEqual(['listening', 'thinking', 'speaking', 'listening']);
    await t.session.close();
    await t.mic.stop();
  }, 60_000);

  it('a barge-in by the user track cuts the agent off: its audio stops at once and history keeps what was heard', async () => {
    const long = 'Here is a long answer. ' + 'I will keep talking about the weather and the time for quite a while, so that you can interrupt me. '.repeat(3);
    const llm = new FakeLLM([
      { input: 'What time is it?', content: long, ttft: 100, duration: 300 },
      { input: 'Stop please.', content: 'Sure.', ttft: 100, duration: 200 },
    ]);
    const t = await setup({ llm, transcripts: ['What time is it?', 'Stop please.'] });
    await t.mic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => audibleSpans(t.heard).length > 0, 20_000, 'the agent to be heard');
    await new Promise((r) => setTimeout(r, 1500));
    const bargeAt = Date.now();
    await t.mic.say(await wavFrames('test/fixtures/utterance-b-16k.wav'));
    await until(() => t.session.history.messages().some((m) => m.role === 'assistant' && m.interrupted), 10_000, 'the interrupted reply');
    const first = audibleSpans(t.heard)[0]!;
    // The reply was cut well before its end, soon after the user began (VAD + minInterruptionDuration 500 ms + the room).
    const synthMs = t.events.flatMap((e) => (e.type === 'metrics_collected' && e.metrics.type === 'tts_metrics' ? [e.metrics.audioDurationMs] : [])).reduce((a, b) => a + b, 0);
    expect(first.end - first.start).toBeLessThan(synthMs * 0.6);
    expect(first.end - bargeAt).toBeGreaterThan(300);
    expect(first.end - bargeAt).toBeLessThan(1800);
    const cut = t.session.history.messages().find((m) => m.role === 'assistant' && m.interrupted)!;
    const heardText = cut.content.join('');
    expect(heardText.length).toBeGreaterThan(5);
    expect(long.startsWith(heardText)).toBe(true);
    expect(heardText.length).toBeLessThan(long.length * 0.7);
    // The agent's transcript stream ends with the interruption: what was heard, give or take the word being spoken
    // (words are released by the clock, the history is cut at the output's reported position).
    await until(() => t.transcripts.filter((s) => s.identity === 'agent-1' && s.closedAt !== null).length >= 1, 3000, 'the cut transcript to close');
    const cutWords = t.transcripts.find((s) => s.identity === 'agent-1')!.text.trim().split(/\s+/);
    const heardWords = heardText.trim().split(/\s+/);
    expect(Math.abs(cutWords.length - heardWords.length)).toBeLessThanOrEqual(1);
    expect(long.startsWith(cutWords.join(' '))).toBe(true);
    await t.session.close();
    await t.mic.stop();
  }, 60_000);

  it('with syncTranscription false the whole agent transcript arrives while the audio has barely begun', async () => {
    const t = await setup({ roomOutputOptions: { syncTranscription: false } });
    await t.mic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => t.events.some((e) => e.type === 'agent_state_changed' && e.oldState === 'speaking'), 20_000, 'the reply to finish');
    await until(() => t.transcripts.some((s) => s.identity === 'agent-1' && s.closedAt !== null), 3000, 'the transcript');
    const span = audibleSpans(t.heard)[0]!;
    const a = t.transcripts.find((s) => s.identity === 'agent-1')!;
    expect(a.text.trim()).toBe(REPLY);
    // All words were out before a third of the speech had played.
    expect(a.chunks.at(-1)!.at).toBeLessThan(span.start + (span.end - span.start) / 3);
    await t.session.close();
    await t.mic.stop();
  }, 60_000);

  it('a capture that fails (the track source is gone) ends the reply with an error instead of wedging the session', async () => {
    const long = 'This answer is long enough to still be playing when its audio source breaks. '.repeat(3);
    const t = await setup({ llm: new FakeLLM([{ input: 'What time is it?', content: long, ttft: 50, duration: 100 }]) });
    await t.mic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => audibleSpans(t.heard).length > 0, 20_000, 'the agent to be heard');
    const brokeAt = Date.now();
    // What a dead native source does: every further capture throws.
    await (roomIOOf(t.session)!.audioOutput as unknown as { source: { close(): Promise<void> } }).source.close();
    await until(() => t.session.agentState === 'listening', 3000, 'the session to get back to listening');
    expect(Date.now() - brokeAt).toBeLessThan(1500);
    const err = t.events.find((e) => e.type === 'error' && e.source === 'audio_output');
    expect(err).toBeDefined();
    expect(String((err as { error: Error }).error.message)).toMatch(/room audio output: .*closed/i);
    expect(t.session.history.messages().find((m) => m.role === 'assistant')!.interrupted).toBe(true);
    await t.session.close();
    await t.mic.stop();
  }, 60_000);
});
