/**
 * A room session is one actor tree: the participant link, the microphone input, the agent's audio output (and the
 * video input when enabled) are children of the session's root actor, in its system, seen by its inspector, and
 * stopped with it.
 */
import type { Room } from '@livekit/rtc-node';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.ts';
import { roomIOOf } from '../../src/room/index.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import { FakeLLM, FakeTTS } from '../../src/testing/index.ts';
import { join, liveKitEnv, Microphone, uniqueRoom, until } from './helpers/livekit.ts';

const env = liveKitEnv();

describe.skipIf(!env)('RoomIO actors in the session tree (real LiveKit server)', () => {
  const rooms: Room[] = [];
  afterAll(async () => {
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  it('puts every room input and output actor under the session root, and stops them with it', async () => {
    const name = uniqueRoom('tree');
    const agentRoom = await join(env!, name, 'agent-1', { kind: 'agent' });
    const userRoom = await join(env!, name, 'user-1');
    rooms.push(agentRoom, userRoom);
    const inspected = new Map<string, AnyActorRef>();
    const session = new AgentSession({
      llm: new FakeLLM(),
      tts: new FakeTTS(),
      stt: null,
      vad: null,
      userAwayTimeout: null,
      inspect: (e: InspectionEvent) => {
        if (e.type === '@xstate.actor') inspected.set(e.actorRef.sessionId, e.actorRef as AnyActorRef);
      },
    });
    await session.start({ agent: new Agent({ instructions: '' }), room: agentRoom, roomInputOptions: { deleteRoomOnClose: false, videoEnabled: true } });
    const mic = await Microphone.publish(userRoom);
    const io = roomIOOf(session)!;
    await until(() => io.actors.length >= 3, 10_000, 'the microphone input to start');
    const root = session._rootActor;
    for (const a of io.actors) {
      let top: AnyActorRef = a;
      while (top._parent) top = top._parent;
      expect(top, `${a.id} is not under the session`).toBe(root);
      expect(a.system).toBe(root.system);
      expect(inspected.has(a.sessionId), `${a.id} is not seen by the session's inspector`).toBe(true);
    }
    const ids = io.actors.map((a) => ((a as unknown as { logic: { id?: string } }).logic.id ?? a.id));
    expect(ids).toContain('participantLink');
    expect(ids).toContain('roomAudioOutput');
    const actors = [...io.actors];
    await session.close();
    await mic.stop();
    for (const a of actors) expect(a.getSnapshot().status, `${a.id} still runs after close`).not.toBe('active');
  }, 40_000);
});
