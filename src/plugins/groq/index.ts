export { GroqLLM } from './llm.ts';
export { GroqSTT } from './stt.ts';
export { GroqTTS, type GroqTTSOptions } from './tts.ts';
