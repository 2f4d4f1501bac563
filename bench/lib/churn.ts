/** One short-lived session: started, given one turn (VAD end of speech + final transcript → reply played), closed. */
import { Agent, AgentSession } from '../../src/index.ts';
import { FakeAudioOutput, silentAudio } from '../../src/testing/index.ts';
import { DrivenSTT, DrivenVAD, InstantLLM, InstantTTS, vadEvent } from './instant.ts';
import { sleep } from './stats.ts';

export async function oneSessionTurn(): Promise<void> {
  const vad = new DrivenVAD();
  const stt = new DrivenSTT();
  const session = new AgentSession({
    vad,
    stt,
    llm: new InstantLLM(),
    tts: new InstantTTS(1),
    turnHandling: { endpointing: { minDelay: 0, maxDelay: 0 } },
    userAwayTimeout: null,
  });
  const output = new FakeAudioOutput();
  session.output.audio = output;
  session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 });
  await session.start({ agent: new Agent({ instructions: 'bench' }) });
  const played = new Promise<void>((r) => session.on('conversation_item_added', (e) => e.item.type === 'message' && e.item.role === 'assistant' && r()));
  vad.events.next(vadEvent('start_of_speech'));
  await sleep(1);
  vad.events.next(vadEvent('end_of_speech'));
  stt.events.next({ type: 'final_transcript', alternatives: [{ text: 'question' }] });
  let timer: ReturnType<typeof setTimeout> | undefined; // cleared: a pending timer would keep the session alive
  const ok = await Promise.race([played.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000)))]);
  clearTimeout(timer);
  if (!ok) throw new Error('session churn: the reply was not played within 5 s');
  await session.close();
}
