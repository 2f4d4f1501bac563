/**
 * The report onSessionEnd receives: which job and room, the session's options, the whole history with its
 * timings and metrics, every event, usage per model, start and end times and why it closed. Plain JSON data, so
 * `writeSessionReport()` (or JSON.stringify) keeps all of it.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent } from '../session/events.ts';
import { toSafeJson, type Json } from '../inspect/safeJson.ts';
import { sessionReport } from '../cli/report.ts';
import { SDK_VERSION } from './version.ts';
import type { JobContext } from './jobContext.ts';

export interface SessionReport {
  jobId: string;
  roomId: string;
  room: string;
  agentName: string;
  agentIdentity: string;
  /** epoch ms */
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** The session's close reason (user_initiated, participant_disconnected, error, job_shutdown…), else the job's. */
  closeReason: string;
  /** Why the job ended (room disconnected, user requested, job crashed: …). */
  jobEndReason: string;
  options: Json;
  /** session.history items: messages with their metrics (latencies, speaking times), tool calls and outputs, handoffs. */
  history: Json;
  /** Every session event in order, JSON-safe (a speech handle becomes its id). */
  events: Json[];
  /** session.usage: per model, requests, tokens, characters, audio. */
  usage: Json;
  /** The console report's summary: state timeline, turn delays, per-reply latencies, errors, metrics. */
  summary: Json;
  audioRecordingPath: string | null;
  sdkVersion: string;
}

export function buildSessionReport(
  ctx: JobContext,
  session: AgentSession<any> | null,
  events: AgentSessionEvent[],
  t: { startedAt: number; endedAt: number; jobEndReason: string; audioRecordingPath: string | null },
): SessionReport {
  const close = [...events].reverse().find((e) => e.type === 'close') as Extract<AgentSessionEvent, { type: 'close' }> | undefined;
  const summary = session ? sessionReport(session, events, t.startedAt) : null;
  return {
    jobId: ctx.job.id,
    roomId: ctx.job.room.sid,
    room: ctx.job.room.name,
    agentName: ctx.job.agentName,
    agentIdentity: ctx.identity,
    startedAt: t.startedAt,
    endedAt: t.endedAt,
    durationMs: t.endedAt - t.startedAt,
    closeReason: close?.reason ?? t.jobEndReason,
    jobEndReason: t.jobEndReason,
    options: toSafeJson(session?.options ?? null, { maxDepth: 8 }),
    history: toSafeJson(session?.history.items ?? [], { maxDepth: 10, maxArray: 100_000, maxString: 100_000 }),
    events: events.map((e) => toSafeJson(eventForReport(e), { maxDepth: 8 })),
    usage: toSafeJson(session?.usage ?? null, { maxDepth: 8 }),
    summary: toSafeJson(summary, { maxDepth: 10, maxArray: 100_000 }),
    audioRecordingPath: t.audioRecordingPath,
    sdkVersion: SDK_VERSION,
  };
}

/** Live objects in events (speech handles, errors) become their plain facts. */
function eventForReport(e: AgentSessionEvent): unknown {
  if (e.type === 'speech_created') return { ...e, speechHandle: undefined, speechId: e.speechHandle.id };
  if (e.type === 'error') return { ...e, error: { name: e.error.name, message: e.error.message } };
  if (e.type === 'close') return { ...e, error: e.error ? { name: e.error.name, message: e.error.message } : null };
  if (e.type === 'function_tools_executed') return { type: e.type, createdAt: e.createdAt, functionCalls: e.functionCalls, functionCallOutputs: e.functionCallOutputs };
  return e;
}

/** Writes the report as JSON; default path `<reportDir>/session-<job id>.json`. Returns the path. */
export function writeSessionReport(report: SessionReport, path?: string, dir = '.'): string {
  const file = path ?? join(dir, `session-${report.jobId}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2));
  return file;
}
