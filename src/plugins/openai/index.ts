export { OpenAILLM, OpenAICompatibleLLM, type OpenAICompatibleOptions } from './llm.ts';
export { OpenAISTT, type OpenAISTTOptions } from './stt.ts';
export { OpenAITTS, type OpenAITTSOptions } from './tts.ts';
export { TranscriptionSTT } from './transcription.ts';
export { OpenAIRealtimeSTT, type RealtimeSTTOptions } from './realtimeStt.ts';
