/** Final transcript → first TTS frame at the output, per turn, for a session on driven VAD/STT and an instant TTS. */
import { Agent, AgentSession } from '../../src/index.ts';
import type { LLM, TTS } from '../../src/providers/types.ts';
import { FakeAudioOutput, silentAudio } from '../../src/testing/index.ts';
import { DrivenSTT, DrivenVAD, InstantTTS, vadEvent } from './instant.ts';
import { sleep } from './stats.ts';

export interface TurnHooks {
  beforeTurn?: () => void;
  afterFirstFrame?: () => void;
  /** After the turn is over and the context trimmed, with the turn's number (1-based). */
  afterTurn?: (session: AgentSession, turn: number) => void;
}

export async function measureTurns(llm: LLM, count: number, tts: TTS = new InstantTTS(1), hooks: TurnHooks = {}): Promise<number[]> {
  const vad = new DrivenVAD();
  const stt = new DrivenSTT();
  const session = new AgentSession({
    vad,
    stt,
    llm,
    tts, // short replies keep the loop short
    turnHandling: { endpointing: { minDelay: 0, maxDelay: 0 } },
    userAwayTimeout: null,
  });
  const output = new FakeAudioOutput();
  session.output.audio = output;
  session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 }); // real-time paced input
  const agent = new Agent({ instructions: 'bench' });
  await session.start({ agent });
  let firstFrame: (() => void) | null = null;
  const capture = output.captureFrame.bind(output);
  output.captureFrame = (f) => {
    firstFrame?.();
    firstFrame = null;
    capture(f);
  };
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    vad.events.next(vadEvent('start_of_speech'));
    await sleep(5);
    vad.events.next(vadEvent('end_of_speech'));
    const got = new Promise<number>((r) => (firstFrame = () => r(performance.now())));
    hooks.beforeTurn?.();
    const t0 = performance.now();
    stt.events.next({ type: 'final_transcript', alternatives: [{ text: `question ${i}` }] });
    samples.push((await got) - t0);
    hooks.afterFirstFrame?.();
    while (session.agentState !== 'listening') await sleep(1);
    // Like a deployed agent, keep a bounded context (instructions + the last 20 items): over thousands of turns an
    // unbounded one would make every request carry the whole benchmark's history.
    const items = agent.chatCtx.items;
    if (items.length > 21) items.splice(1, items.length - 21);
    hooks.afterTurn?.(session, i + 1);
  }
  await session.close();
  return samples;
}
