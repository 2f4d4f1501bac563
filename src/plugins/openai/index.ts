export { OpenAILLM, OpenAICompatibleLLM, type OpenAICompatibleOptions } from './llm.ts';
