export { GroqLLM } from './llm.ts';
