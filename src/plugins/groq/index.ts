export { GroqLLM } from './llm.ts';
export { GroqSTT } from './stt.ts';
