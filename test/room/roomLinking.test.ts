/** RoomIO on the real server: chat input, linking, leaving, rejoining and deleting the room, disabled parts. */
import { RoomEvent, TrackKind, type Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { tap, type Observable } from 'rxjs';
import type { AudioFrame } from '../../src/audio/frame.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.ts';
import { FliteTTS } from '../../src/plugins/flite/index.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import { RoomIO, roomIOOf, type TextInputEvent } from '../../src/room/index.ts';
import { httpUrl } from '../../src/room/roomService.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import type { AgentSessionEvent } from '../../src/session/events.ts';
import { FakeLLM } from '../../src/testing/index.ts';
import { VadScriptedSTT } from './helpers/agent.ts';
import { audibleSpans, join, liveKitEnv, Microphone, recordAudioFrom, recordTranscriptions, uniqueRoom, until, wavFrames } from './helpers/livekit.ts';

const env = liveKitEnv();

describe.skipIf(!env)('RoomIO linking, chat and lifecycle on a real LiveKit server', () => {
  let vad: SileroVAD;
  const rooms: Room[] = [];
  beforeAll(async () => {
    vad = await SileroVAD.load();
  });
  afterAll(async () => {
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  async function agentIn(name: string, llm: FakeLLM, transcripts = ['What time is it?']) {
    const room = await join(env!, name, 'agent-1', { kind: 'agent' });
    rooms.push(room);
    const session = new AgentSession({ vad, stt: new VadScriptedSTT(vad, transcripts), llm, tts: new FliteTTS(), userAwayTimeout: null });
    const events: AgentSessionEvent[] = [];
    session.events$.subscribe((e) => events.push(e));
    return { room, session, events, agent: new Agent({ instructions: 'Test agent.' }) };
  }
  async function user(name: string, identity: string) {
    const r = await join(env!, name, identity);
    rooms.push(r);
    return r;
  }
  const said = (s: AgentSession) => s.history.messages().map((m) => `${m.role}: ${m.content.join('')}`);

  it('text on lk.chat from the linked participant becomes a user turn; the default callback answers it', async () => {
    const name = uniqueRoom('chat');
    const a = await agentIn(name, new FakeLLM([{ input: 'Hello over chat', content: 'Hello back.', ttft: 50, duration: 100 }]));
    const u = await user(name, 'user-1');
    const heard = recordAudioFrom(u, 'agent-1');
    const streams = recordTranscriptions(u);
    await a.session.start({ agent: a.agent, room: a.room, roomInputOptions: { deleteRoomOnClose: false } });
    await until(() => !!a.session && roomLinked(a.session), 5000, 'the user to be linked');
    await u.localParticipant!.sendText('Hello over chat', { topic: 'lk.chat' });
    await until(() => said(a.session).includes('assistant: Hello back.'), 15_000, 'the reply');
    expect(said(a.session)).toEqual(['user: Hello over chat', 'assistant: Hello back.']);
    await until(() => audibleSpans(heard).length === 1 && streams.some((s) => s.identity === 'agent-1' && s.closedAt !== null), 5000, 'audio and transcript');
    expect(streams.find((s) => s.identity === 'agent-1')!.text.trim()).toBe('Hello back.');
    await a.session.close();
  }, 40_000);

  it('a custom textInputCallback gets the text and sender; chat from anyone but the linked participant is dropped', async () => {
    const name = uniqueRoom('chatcb');
    const a = await agentIn(name, new FakeLLM());
    const got: TextInputEvent[] = [];
    const u1 = await user(name, 'user-1');
    await a.session.start({
      agent: a.agent,
      room: a.room,
      roomInputOptions: { deleteRoomOnClose: false, participantIdentity: 'user-1', textInputCallback: (s: AgentSession<any>, ev: TextInputEvent) => void (got.push(ev), s.say(`You typed ${ev.text}`)) },
    });
    const u2 = await user(name, 'user-2');
    await until(() => roomLinked(a.session) && a.room.remoteParticipants.has('user-2'), 5000, 'both users');
    await u2.localParticipant!.sendText('from the other one', { topic: 'lk.chat' });
    await u1.localParticipant!.sendText('ping', { topic: 'lk.chat' });
    await until(() => said(a.session).includes('assistant: You typed ping'), 15_000, 'the scripted answer');
    expect(got.map((e) => [e.text, e.participantIdentity, e.info.topic])).toEqual([['ping', 'user-1', 'lk.chat']]);
    await a.session.close();
  }, 40_000);

  it('linked to one identity, the agent ignores a second participant who talks', async () => {
    const name = uniqueRoom('pin');
    const llm = new FakeLLM([{ input: 'What time is it?', content: 'Noon.', ttft: 50, duration: 100 }]);
    const a = await agentIn(name, llm);
    const other = await user(name, 'talker');
    const pinned = await user(name, 'pinned');
    const talkerMic = await Microphone.publish(other);
    const pinnedMic = await Microphone.publish(pinned);
    const streams = recordTranscriptions(pinned);
    // A noiseCancellation processor sees the room audio before the session does (only the linked participant's).
    let cleaned = 0;
    const noiseCancellation = { label: 'counting', process: (f$: Observable<AudioFrame>) => f$.pipe(tap(() => cleaned++)) };
    await a.session.start({ agent: a.agent, room: a.room, roomInputOptions: { deleteRoomOnClose: false, participantIdentity: 'pinned', noiseCancellation } });
    await talkerMic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await new Promise((r) => setTimeout(r, 2500));
    expect(llm.requests).toHaveLength(0);
    expect(a.events.some((e) => e.type === 'user_state_changed' && e.newState === 'speaking')).toBe(false);
    await pinnedMic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => said(a.session).includes('assistant: Noon.'), 15_000, 'the reply to the pinned participant');
    expect(llm.requests).toHaveLength(1);
    expect(cleaned).toBeGreaterThan(20);
    expect(new Set(streams.filter((s) => s.identity !== 'agent-1').map((s) => s.identity))).toEqual(new Set(['pinned']));
    await a.session.close();
    await talkerMic.stop();
    await pinnedMic.stop();
  }, 40_000);

  it('the linked participant leaving closes the session (participant_disconnected) and deletes the room', async () => {
    const name = uniqueRoom('leave');
    const a = await agentIn(name, new FakeLLM());
    const u = await user(name, 'user-1');
    await a.session.start({ agent: a.agent, room: a.room });
    await until(() => roomLinked(a.session), 5000, 'the link');
    const agentDisconnected = new Promise<void>((r) => a.room.once(RoomEvent.Disconnected, () => r()));
    await u.disconnect();
    await until(() => a.events.some((e) => e.type === 'close'), 10_000, 'the session to close');
    const close = a.events.find((e) => e.type === 'close');
    expect(close).toMatchObject({ reason: 'participant_disconnected' });
    await agentDisconnected;
    const svc = new RoomServiceClient(httpUrl(env!.url), env!.apiKey, env!.apiSecret);
    expect((await svc.listRooms([name])).map((r) => r.name)).toEqual([]);
  }, 40_000);

  it('with closeOnDisconnect false, a participant who leaves and rejoins under the same identity is heard again', async () => {
    const name = uniqueRoom('rejoin');
    const llm = new FakeLLM([{ input: 'What time is it?', content: 'Noon.', ttft: 50, duration: 100 }]);
    const a = await agentIn(name, llm);
    const first = await user(name, 'user-1');
    await a.session.start({ agent: a.agent, room: a.room, roomInputOptions: { deleteRoomOnClose: false, closeOnDisconnect: false } });
    await until(() => roomLinked(a.session), 5000, 'the link');
    await first.disconnect();
    await until(() => !roomLinked(a.session), 5000, 'the unlink');
    await new Promise((r) => setTimeout(r, 300));
    const again = await user(name, 'user-1');
    const mic = await Microphone.publish(again);
    await until(() => roomLinked(a.session), 5000, 'the relink');
    await mic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => said(a.session).includes('assistant: Noon.'), 15_000, 'the reply after rejoining');
    expect(a.session.lifecycle).toBe('running');
    await a.session.close();
    await mic.stop();
  }, 40_000);

  it('with audio off both ways, chat still gets an answer as a transcript and no agent track is published', async () => {
    const name = uniqueRoom('noaudio');
    const a = await agentIn(name, new FakeLLM([{ input: 'typed', content: 'Answer in text only.', ttft: 50, duration: 100 }]));
    const u = await user(name, 'user-1');
    const streams = recordTranscriptions(u);
    const tracks: TrackKind[] = [];
    u.on(RoomEvent.TrackSubscribed, (t) => tracks.push(t.kind!));
    const mic = await Microphone.publish(u);
    await a.session.start({
      agent: a.agent,
      room: a.room,
      roomInputOptions: { deleteRoomOnClose: false, audioEnabled: false },
      roomOutputOptions: { audioEnabled: false },
    });
    await until(() => roomLinked(a.session), 5000, 'the link');
    await mic.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await new Promise((r) => setTimeout(r, 2000));
    expect(a.events.some((e) => e.type === 'user_state_changed')).toBe(false);
    await u.localParticipant!.sendText('typed', { topic: 'lk.chat' });
    await until(() => streams.some((s) => s.identity === 'agent-1' && s.closedAt !== null), 15_000, 'the agent transcript');
    expect(streams.find((s) => s.identity === 'agent-1')!.text.trim()).toBe('Answer in text only.');
    expect(tracks).toEqual([]);
    await a.session.close();
    await mic.stop();
  }, 40_000);

  it('a custom RoomIO built before start: setParticipant moves the link, and its parts can be replaced', async () => {
    const name = uniqueRoom('custom');
    const llm = new FakeLLM([{ input: 'What time is it?', content: 'Noon.', ttft: 50, duration: 100 }]);
    const a = await agentIn(name, llm);
    const u1 = await user(name, 'user-1');
    const u2 = await user(name, 'user-2');
    const mic1 = await Microphone.publish(u1);
    const mic2 = await Microphone.publish(u2);
    const io = new RoomIO(a.session, a.room, { inputOptions: { deleteRoomOnClose: false, participantIdentity: 'user-1' } });
    const own: string[] = [];
    io.transcriptionOutput = { label: 'mine', captureText: (t) => own.push(t), flush: () => own.push('|') };
    await a.session.start({ agent: a.agent, room: a.room });
    expect(await io.waitForParticipant()).toBe('user-1');
    io.setParticipant('user-2');
    await until(() => io.linkedIdentity === 'user-2', 5000, 'the new link');
    await mic1.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await new Promise((r) => setTimeout(r, 2500));
    expect(llm.requests).toHaveLength(0);
    await mic2.say(await wavFrames('test/fixtures/utterance-a-16k.wav'));
    await until(() => own.includes('|'), 15_000, 'the reply text in the custom output');
    expect(own.join('').replace('|', '').trim()).toBe('Noon.');
    await a.session.close();
    await mic1.stop();
    await mic2.stop();
  }, 40_000);
});

function roomLinked(session: AgentSession): boolean {
  return roomIOOf(session)?.linkedIdentity != null;
}
