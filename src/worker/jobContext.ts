/**
 * What a job's `entry(ctx)` gets: the room (not yet connected), the job, the process's prewarmed userdata,
 * shutdown hooks, and the session whose report onSessionEnd receives. The job's end is decided by the job
 * runner (jobRunner.ts); this class only records requests and exposes the room.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Room, RoomEvent, ParticipantKind, type LocalParticipant, type RemoteParticipant } from '@livekit/rtc-node';
import { routeRoomEvents } from '../room/ffiClient.ts';
import type { AgentSession } from '../session/agentSession.ts';
import type { JobProcess } from './defineAgent.ts';
import type { JobInfo } from './jobInfo.ts';

export type ShutdownCallback = (reason: string) => Promise<void> | void;

export interface JobContextInit {
  job: JobInfo;
  url: string;
  token: string;
  workerId: string;
  identity: string;
  proc: JobProcess;
  reportDir: string;
  recording: boolean;
  /** Called once with the first shutdown request (the runner ends the job). */
  onShutdown: (reason: string) => void;
}

const current = new AsyncLocalStorage<JobContext>();

/** The job the calling code runs in (inside entry, its callbacks and timers), or undefined outside a job. */
export function getJobContext(): JobContext | undefined {
  return current.getStore();
}

export class JobContext {
  readonly room = new Room();
  readonly job: JobInfo;
  readonly proc: JobProcess;
  readonly workerId: string;
  /** The agent participant's identity (from the accepted request). */
  readonly identity: string;
  readonly reportDir: string;
  readonly recording: boolean;
  /** @internal */
  readonly _shutdownCallbacks: ShutdownCallback[] = [];
  /** @internal */
  _primarySession: AgentSession<any> | null = null;
  private connecting: Promise<void> | null = null;
  private readonly url: string;
  private readonly token: string;
  private readonly onShutdown: (reason: string) => void;

  constructor(init: JobContextInit) {
    this.job = init.job;
    this.proc = init.proc;
    this.workerId = init.workerId;
    this.identity = init.identity;
    this.reportDir = init.reportDir;
    this.recording = init.recording;
    this.url = init.url;
    this.token = init.token;
    this.onShutdown = init.onShutdown;
  }

  /** @internal runs fn with this job as the current one (getJobContext()). */
  _run<T>(fn: () => T): T {
    return current.run(this, fn);
  }

  /** The agent's own participant, once connected. */
  get agent(): LocalParticipant | undefined {
    return this.room.isConnected ? this.room.localParticipant : undefined;
  }

  /** Join the room with the job's token. Idempotent: later calls return the first connection. */
  connect(opts: { autoSubscribe?: boolean } = {}): Promise<void> {
    routeRoomEvents(this.room);
    this.connecting ??= this.room.connect(this.url, this.token, { autoSubscribe: opts.autoSubscribe ?? true, dynacast: false });
    return this.connecting;
  }

  /** The claims of the agent's room token (identity, kind, video grant), as the server minted them. */
  tokenClaims(): Record<string, unknown> {
    const part = this.token.split('.')[1] ?? '';
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  }

  /** Called with the shutdown reason after the session closed and the room was left. */
  addShutdownCallback(cb: ShutdownCallback): void {
    if (typeof cb !== 'function') throw new TypeError('addShutdownCallback needs a function');
    this._shutdownCallbacks.push(cb);
  }

  /** End the job: the session closes, onSessionEnd runs, the agent leaves, the callbacks run. */
  shutdown(reason = 'user requested'): void {
    this.onShutdown(reason);
  }

  /**
   * The session whose report onSessionEnd receives (and whose audio `recording` captures). Call it before
   * session.start() so that every event is in the report.
   */
  setPrimarySession(session: AgentSession<any>): void {
    if (this._primarySession && this._primarySession !== session) throw new Error('this job already has a primary session');
    this._primarySession = session;
    this._onPrimarySession?.(session);
  }

  /** @internal the runner's hook to start recording events and audio. */
  _onPrimarySession?: (session: AgentSession<any>) => void;

  get primarySession(): AgentSession<any> | null {
    return this._primarySession;
  }

  /**
   * The first remote participant that is not an agent (or the one with `identity`), waiting for it to join.
   * Needs a connected room.
   */
  waitForParticipant(identity?: string): Promise<RemoteParticipant> {
    if (!this.room.isConnected) return Promise.reject(new Error('waitForParticipant: connect() first'));
    const fits = (p: RemoteParticipant) => (identity ? p.identity === identity : p.kind !== ParticipantKind.AGENT);
    for (const p of this.room.remoteParticipants.values()) if (fits(p)) return Promise.resolve(p);
    return new Promise((resolve, reject) => {
      const onJoin = (p: RemoteParticipant) => {
        if (!fits(p)) return;
        off();
        resolve(p);
      };
      const onGone = () => {
        off();
        reject(new Error('waitForParticipant: the room disconnected'));
      };
      const off = () => {
        this.room.off(RoomEvent.ParticipantConnected, onJoin);
        this.room.off(RoomEvent.Disconnected, onGone);
      };
      this.room.on(RoomEvent.ParticipantConnected, onJoin);
      this.room.on(RoomEvent.Disconnected, onGone);
    });
  }
}
