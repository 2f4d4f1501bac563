import '../room/ffiClient.ts';
/** Deploying agents: defineAgent, the worker, the job context and session reports. */
export { defineAgent, type AgentDefinition, type JobProcess } from './defineAgent.ts';
export { AgentWorker, runWorker, type JobEnded, type WorkerEvents } from './worker.ts';
export { JobContext, getJobContext, type ShutdownCallback } from './jobContext.ts';
export { JobRequest } from './jobRequest.ts';
export type { JobInfo } from './jobInfo.ts';
export type { ServerOptions, WorkerOptions } from './options.ts';
export { buildSessionReport, writeSessionReport, type SessionReport } from './sessionReport.ts';
export { jsonLogger, prettyLogger, silentLogger, type Logger, type LogLevel } from './log.ts';
export { agentEndpoint } from './protocol.ts';
