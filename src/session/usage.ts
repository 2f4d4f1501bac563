/**
 * What a session has used of each model, summed from its metrics: the numbers a bill is made of. Updated on every
 * LLM, TTS and STT metrics event (cancelled requests count too: they were paid for).
 */
import type { Metrics } from './metrics.ts';

export type ModelUsage =
  | { type: 'llm'; label: string; requests: number; inputTokens: number; outputTokens: number; cachedInputTokens: number }
  | { type: 'tts'; label: string; requests: number; charactersCount: number; audioDurationMs: number }
  | { type: 'stt'; label: string; requests: number; audioDurationMs: number };

export interface SessionUsage {
  modelUsage: ModelUsage[];
}

export class UsageCollector {
  private readonly byKey = new Map<string, ModelUsage>();

  /** Adds one metrics event; false when it carries no usage (VAD, end of utterance). */
  add(m: Metrics): boolean {
    if (m.type !== 'llm_metrics' && m.type !== 'tts_metrics' && m.type !== 'stt_metrics') return false;
    const type = m.type === 'llm_metrics' ? 'llm' : m.type === 'tts_metrics' ? 'tts' : 'stt';
    const key = `${type} ${m.label}`;
    let u = this.byKey.get(key);
    if (!u) {
      u =
        type === 'llm'
          ? { type, label: m.label, requests: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 }
          : type === 'tts'
            ? { type, label: m.label, requests: 0, charactersCount: 0, audioDurationMs: 0 }
            : { type, label: m.label, requests: 0, audioDurationMs: 0 };
      this.byKey.set(key, u);
    }
    u.requests++;
    if (u.type === 'llm' && m.type === 'llm_metrics') {
      u.inputTokens += m.promptTokens;
      u.outputTokens += m.completionTokens;
      u.cachedInputTokens += m.promptCachedTokens ?? 0;
    } else if (u.type === 'tts' && m.type === 'tts_metrics') {
      u.charactersCount += m.charactersCount;
      u.audioDurationMs += m.audioDurationMs;
    } else if (u.type === 'stt' && m.type === 'stt_metrics') {
      u.audioDurationMs += m.audioDurationMs;
    }
    return true;
  }

  /** A copy: listeners may keep it. */
  snapshot(): SessionUsage {
    return { modelUsage: [...this.byKey.values()].map((u) => ({ ...u })) };
  }
}
