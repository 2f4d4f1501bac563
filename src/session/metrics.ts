/** What each model call and turn measured (the payload of `metrics_collected`). */
export type Metrics =
  | { type: 'llm_metrics'; label: string; requestId: string; timestamp: number; durationMs: number; ttftMs: number; cancelled: boolean; promptTokens: number; completionTokens: number; totalTokens: number; promptCachedTokens?: number; tokensPerSecond: number; speechId?: string }
  | { type: 'tts_metrics'; label: string; requestId: string; timestamp: number; ttfbMs: number; durationMs: number; audioDurationMs: number; charactersCount: number; cancelled: boolean; streamed: boolean; speechId?: string }
  | { type: 'eou_metrics'; timestamp: number; endOfUtteranceDelayMs: number; transcriptionDelayMs: number; onUserTurnCompletedDelayMs: number; speechId?: string }
  | { type: 'stt_metrics'; label: string; timestamp: number; durationMs: number; audioDurationMs: number; streamed: boolean }
  | { type: 'vad_metrics'; label: string; timestamp: number; idleTimeMs: number; inferenceDurationTotalMs: number; inferenceCount: number };
