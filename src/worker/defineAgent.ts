/**
 * An agent file's default export: `export default defineAgent({ prewarm, entry, onSessionEnd, server })`.
 * The worker imports the file in every job process; `prewarm` runs once per process (load models there and
 * keep them in `proc.userdata`), `entry` once per job.
 */
import type { JobContext } from './jobContext.ts';
import type { SessionReport } from './sessionReport.ts';
import type { ServerOptions } from './options.ts';

export interface JobProcess {
  readonly pid: number;
  /** Filled by prewarm, shared by every job this process runs. */
  readonly userdata: Record<string, unknown>;
}

export interface AgentDefinition {
  entry: (ctx: JobContext) => Promise<void> | void;
  prewarm?: (proc: JobProcess) => Promise<void> | void;
  /** Runs in the job process after the session closed, before the room is left. */
  onSessionEnd?: (ctx: JobContext, report: SessionReport) => Promise<void> | void;
  /** Worker options that travel with the agent file (the CLI reads them); explicit options override them. */
  server?: ServerOptions;
}

export function defineAgent(def: AgentDefinition): AgentDefinition {
  if (!def || typeof def.entry !== 'function') throw new TypeError('defineAgent: `entry(ctx)` must be a function');
  if (def.prewarm !== undefined && typeof def.prewarm !== 'function') throw new TypeError('defineAgent: `prewarm` must be a function');
  if (def.onSessionEnd !== undefined && typeof def.onSessionEnd !== 'function') throw new TypeError('defineAgent: `onSessionEnd` must be a function');
  return { ...def };
}

/** The agent a module exports by default, or an error naming the file. */
export function agentOf(mod: Record<string, unknown>, file: string): AgentDefinition {
  const def = (mod.default ?? mod.agent) as AgentDefinition | undefined;
  if (!def || typeof def !== 'object' || typeof def.entry !== 'function') {
    throw new Error(`${file} has no agent: its default export must be defineAgent({ entry(ctx) { … } })`);
  }
  return def;
}
