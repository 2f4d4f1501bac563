/**
 * Sessions that close in different phases, with default options (user-away timer, false-interruption timer):
 * after the reply (0), while speaking (1), while the LLM is still thinking (2), right after a say() (3).
 */
import { NEVER, Observable } from 'rxjs';
import { Agent, AgentSession } from '../../src/index.ts';
import type { ChatChunk, LLM } from '../../src/providers/types.ts';
import { FakeAudioOutput, silentAudio } from '../../src/testing/index.ts';
import { DrivenSTT, DrivenVAD, InstantLLM, InstantTTS, vadEvent } from './instant.ts';
import { sleep } from './stats.ts';

class StuckLLM implements LLM {
  readonly label = 'stuck-llm';
  readonly model = 'stuck';
  chat(): Observable<ChatChunk> {
    return NEVER;
  }
}

export async function mixedSession(i: number): Promise<void> {
  const phase = i % 4;
  const vad = new DrivenVAD();
  const stt = new DrivenSTT();
  const session = new AgentSession({
    vad,
    stt,
    llm: phase === 2 ? new StuckLLM() : new InstantLLM(),
    tts: new InstantTTS(phase === 1 ? 500 : 1),
    turnHandling: { endpointing: { minDelay: 0, maxDelay: 0 } },
  });
  session.output.audio = new FakeAudioOutput({ canPause: true });
  session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 });
  await session.start({ agent: new Agent({ instructions: 'bench' }) });
  if (phase === 3) {
    session.say('Hello there.');
    await sleep(1);
  } else {
    vad.events.next(vadEvent('start_of_speech'));
    await sleep(1);
    vad.events.next(vadEvent('end_of_speech'));
    stt.events.next({ type: 'final_transcript', alternatives: [{ text: 'question' }] });
    if (phase === 0) while (session.agentState !== 'listening' || session.history.items.length < 2) await sleep(2);
    else if (phase === 1) while (session.agentState !== 'speaking') await sleep(2);
    else await sleep(5);
  }
  await session.close();
}
