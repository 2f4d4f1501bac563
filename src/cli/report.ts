import type { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent } from '../session/events.ts';

/** A JSON-serialisable summary of a finished session: history, state timeline, latencies and metrics. */
export function sessionReport(session: AgentSession<any>, events: AgentSessionEvent[], startedAt: number) {
  const rel = (t: number) => t - startedAt;
  const metrics = events.flatMap((e) => (e.type === 'metrics_collected' ? [e.metrics] : []));
  const eou = metrics.filter((m) => m.type === 'eou_metrics');
  const assistant = session.history.messages().filter((m) => m.role === 'assistant');
  return {
    durationMs: Date.now() - startedAt,
    history: session.history.items,
    timeline: events
      .filter((e) => e.type === 'agent_state_changed' || e.type === 'user_state_changed')
      .map((e) => ({ atMs: rel(e.createdAt), [e.type === 'agent_state_changed' ? 'agent' : 'user']: (e as { newState: string }).newState })),
    turns: eou.map((m) => ({ endOfUtteranceDelayMs: m.endOfUtteranceDelayMs, transcriptionDelayMs: m.transcriptionDelayMs })),
    interruptedReplies: assistant.filter((m) => m.interrupted).length,
    // Per spoken reply (ms): user stopped → agent started, and the model stages in between.
    replies: assistant.map((m) => ({
      e2eLatency: m.metrics?.e2eLatency ?? null,
      llmNodeTtft: m.metrics?.llmNodeTtft ?? null,
      ttsNodeTtfb: m.metrics?.ttsNodeTtfb ?? null,
    })),
    usage: session.usage,
    errors: events.flatMap((e) => (e.type === 'error' ? [{ source: e.source, label: e.label, message: e.error.message, recoverable: e.recoverable }] : [])),
    metrics,
  };
}
