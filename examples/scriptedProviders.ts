/**
 * Scripted STT and LLM for the example when no model provider is configured: the whole pipeline still runs end to
 * end (VAD → STT → turn detection → LLM → tools → TTS → output), only the "intelligence" is a script.
 */
import { fileURLToPath } from 'node:url';
import { FakeLLM, fakeLlmKey, type FakeLLMResponse, type ScriptedUtterance } from '../src/testing/index.ts';

/** The sample recording, found next to this module from any working directory (a checkout or the built package). */
export const SAMPLE_INPUT = fileURLToPath(new URL('./sample-input.wav', import.meta.url));
/**
 * What the user says in `examples/sample-input.wav` and when (ms from its start), so the scripted STT hears the
 * same utterances that the real VAD detects in the audio.
 */
export const sampleUtterances: ScriptedUtterance[] = [
  { start: 1000, end: 2279, transcript: 'What time is it?', sttDelay: 150 },
  { start: 7279, end: 9654, transcript: 'Could you book a table for two at eight?', sttDelay: 200 },
];

export function demoLLM(): FakeLLM {
  const responses: FakeLLMResponse[] = [
    { input: 'What time is it?', toolCalls: [{ name: 'get_time', arguments: {} }], ttft: 300, duration: 400 },
    { input: 'Could you book a table for two at eight?', content: 'Let me book that for you.', toolCalls: [{ name: 'book_table', arguments: { people: 2, time: '20:00' } }], ttft: 300, duration: 600 },
  ];
  const llm = new FakeLLM(responses);
  // Tool outputs are dynamic (the clock, the booking), so answer them by pattern; anything else (e.g. speech
  // heard without a speech-to-text provider) gets an honest generic answer.
  const chat = llm.chat.bind(llm);
  llm.chat = (req) => {
    const last = req.chatCtx.items.at(-1);
    if (last?.type === 'function_call_output') {
      const text = last.name === 'get_time' ? `It is ${last.output} right now.` : `Done! ${last.output}`;
      llm.add({ input: last.output, content: text, ttft: 250, duration: 500 });
    } else {
      const key = fakeLlmKey(req.chatCtx);
      if (!responses.some((r) => r.input === key)) {
        llm.add({ input: key, content: 'I heard you speak, but no speech-to-text provider is configured, so I cannot tell what you said.', ttft: 250, duration: 500 });
      }
    }
    return chat(req);
  };
  return llm;
}
