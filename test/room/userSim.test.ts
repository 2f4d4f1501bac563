/**
 * The rooms bench's Go users (bench/usersim) against a real agent session on the real LiveKit server: the bench's
 * capacity figures are only as good as its users, so this checks that their pre-encoded Opus reaches the agent as
 * speech (Silero hears it, each utterance becomes a turn), that their DTX silence between utterances keeps the
 * agent's input in real time, that "heard" is printed for each reply and never for the agent's silence, and that the
 * agent's attributes are passed on.
 */
import type { ChildProcess } from 'node:child_process';
import type { Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.ts';
import { FliteTTS } from '../../src/plugins/flite/index.ts';
import { SileroVAD } from '../../src/plugins/silero/index.ts';
import { roomIOOf } from '../../src/room/index.ts';
import { AgentSession } from '../../src/session/agentSession.ts';
import type { AgentSessionEvent } from '../../src/session/events.ts';
import { FakeLLM } from '../../src/testing/index.ts';
import { hasGo, spawnUsers, userSimBinary, usersReady } from '../../bench/lib/userSim.ts';
import { VadScriptedSTT } from './helpers/agent.ts';
import { join, liveKitEnv, uniqueRoom, until } from './helpers/livekit.ts';

const env = liveKitEnv();
const goInstalled = hasGo();
if (env && !goInstalled) console.warn('userSim.test: skipped, Go is not installed (the simulator is built from bench/usersim)');

describe.skipIf(!env || !goInstalled)('the rooms bench Go users on a real LiveKit server', () => {
  let vad: SileroVAD;
  let room: Room | undefined;
  let users: ChildProcess | undefined;
  beforeAll(async () => {
    userSimBinary(); // built once into the cache (module download and build: under a minute)
    vad = await SileroVAD.load();
  }, 240_000);
  afterAll(async () => {
    users?.kill('SIGTERM');
    await room?.disconnect().catch(() => undefined);
  });

  it('speaks utterances the agent hears as turns, in real time, and reports each reply once', async () => {
    const prefix = uniqueRoom('usersim');
    room = await join(env!, `${prefix}-0`, 'agent-0', { kind: 'agent' });
    const reply = 'Hello there.';
    const llm = new FakeLLM([{ input: 'hello', content: reply }, { input: 'hello', content: reply }, { input: 'hello', content: reply }]);
    const session = new AgentSession({ vad, stt: new VadScriptedSTT(vad, ['hello']), llm, tts: new FliteTTS(), userAwayTimeout: null, turnHandling: { aecWarmupDuration: 0 } });
    const events: Array<{ at: number; e: AgentSessionEvent }> = [];
    session.events$.subscribe((e) => events.push({ at: Date.now(), e }));
    await session.start({ agent: new Agent({ instructions: '' }), room, roomInputOptions: { deleteRoomOnClose: false, audioSampleRate: 16000 } });
    // The agent's input in real time: audio received since the first frame against the wall clock.
    let firstFrameAt = 0;
    let receivedMs = 0;
    roomIOOf(session)!.audioInput!.subscribe((f) => {
      firstFrameAt ||= Date.now();
      receivedMs += (f.samplesPerChannel / f.sampleRate) * 1000;
    });

    users = spawnUsers('go', prefix, 1);
    const heard: number[] = [];
    // Resolves on "ready"; each "heard 0" is stamped with its arrival.
    const joinTimeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the users did not join and publish within 20 s')), 20_000).unref());
    const agentStates: string[] = [];
    const onAttribute = (i: number, key: string, value: string) => i === 0 && key === 'lk.agent.state' && agentStates.push(value);
    await Promise.race([usersReady(users, () => heard.push(Date.now()), onAttribute), joinTimeout]);
    // Three utterances (1.9 s each, 3 s apart) and the replies to the first two.
    const speakingStarts = () => events.filter(({ e }) => e.type === 'agent_state_changed' && e.newState === 'speaking').map(({ at }) => at);
    await until(() => speakingStarts().length >= 2 && heard.length >= 2, 25_000, 'two replies heard by the user');
    await until(() => events.filter(({ e }) => e.type === 'user_input_transcribed' && e.isFinal).length >= 3, 10_000, 'the third user turn');

    const finals = events.filter(({ e }) => e.type === 'user_input_transcribed' && e.isFinal);
    expect(finals.length).toBeGreaterThanOrEqual(3);
    const starts = speakingStarts();
    // Each reply is heard once, shortly after the agent starts speaking; never before (silence is not a reply).
    for (let i = 0; i < 2; i++) {
      expect(heard[i]!).toBeGreaterThanOrEqual(starts[i]!);
      expect(heard[i]! - starts[i]!).toBeLessThan(1500);
    }
    expect(heard.length).toBeLessThanOrEqual(starts.length);
    // The agent's state attribute reaches the users (the worker bench follows jobs by it).
    expect(agentStates).toContain('listening');
    expect(agentStates).toContain('speaking');
    // DTX silence between utterances: the agent's input still keeps up with the wall clock (no gaps, no backlog).
    const wallMs = Date.now() - firstFrameAt;
    expect(receivedMs).toBeGreaterThan(wallMs - 400);
    expect(receivedMs).toBeLessThan(wallMs + 400);
    await session.close();
  }, 90_000);
});
