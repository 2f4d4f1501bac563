/**
 * The Silero model run by the worker's inference host (inferenceHost.mjs), reached over its Unix socket: what
 * `SileroVAD.load()` gives inside a job process of a worker with shared inference (the default), so that no job
 * process loads onnxruntime and the windows of all of them share model calls. Requests are gathered and merged as
 * mergedRequests.ts says; the host merges again across job processes.
 *
 * The host answers a batch from its inputs and states alone, so a batch in flight when the connection drops (the
 * host crashed and the worker is restarting it) is sent again once reconnected: a host restart costs the sessions
 * latency, not windows. A batch goes out at most twice; windows fail with a clear error only when the host cannot
 * be reached for `reconnectMs`, and the next window tries again.
 */
import { connect, type Socket } from 'node:net';
import { encodeBatch, encodeJson, frameReader, KIND, type WireMessage } from './hostWire.mjs';
import { MergedRequestModel, type BatchAnswer, type InFlight } from './mergedRequests.ts';
import { notSileroV5 } from './model.ts';

/** Set by the worker in its job processes' environment: where its inference host listens. */
export const INFERENCE_SOCKET_ENV = 'VOICECHART_INFERENCE_SOCKET';

const MAX_SENDS = 2;

/** The host is there but cannot load the model: trying again will not help. */
class Refused extends Error {}

export interface SharedModelOptions {
  /** How long to keep trying to reach the host before windows fail (default 10 s: a host restart takes ~0.5 s). */
  reconnectMs?: number;
}

export class SileroSharedModel extends MergedRequestModel {
  private sock: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  /** Batches in flight: the connection each went out on and how often it has gone out. */
  private readonly written = new Map<number, { sock: Socket; sends: number }>();
  private closed = false;
  private readonly reconnectMs: number;

  private constructor(
    readonly socketPath: string,
    private readonly modelPath: string,
    opts: SharedModelOptions,
  ) {
    super();
    this.reconnectMs = opts.reconnectMs ?? 10_000;
  }

  /** Connects and has the host load the model; rejects with the host's message for a file that is no model. */
  static async load(socketPath: string, modelPath: string, opts: SharedModelOptions = {}): Promise<SileroSharedModel> {
    const m = new SileroSharedModel(socketPath, modelPath, opts);
    await m.connection();
    return m;
  }

  protected async transmit(id: number, entry: InFlight): Promise<void> {
    this.write(await this.connection(), id, entry);
  }

  private write(sock: Socket, id: number, entry: InFlight): void {
    const sends = (this.written.get(id)?.sends ?? 0) + 1;
    if (sends > MAX_SENDS) return this.fail(id, new Error(`Silero VAD: the inference host went away ${MAX_SENDS} times while computing these windows`));
    this.written.set(id, { sock, sends });
    sock.ref(); // windows in flight keep the process alive until answered
    sock.write(encodeBatch(id, entry.packed));
  }

  protected override answer(id: number, a: BatchAnswer): void {
    this.written.delete(id);
    super.answer(id, a);
  }

  protected override fail(id: number, e: Error): void {
    this.written.delete(id);
    super.fail(id, e);
  }

  protected override idle(): void {
    this.sock?.unref();
  }

  private connection(): Promise<Socket> {
    if (this.closed) return Promise.reject(new Error('Silero VAD model closed'));
    if (this.sock) return Promise.resolve(this.sock);
    this.connecting ??= this.connectWithRetry().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectWithRetry(): Promise<Socket> {
    const deadline = performance.now() + this.reconnectMs;
    let delay = 50;
    for (;;) {
      try {
        return await this.open();
      } catch (e) {
        if (e instanceof Refused || this.closed) throw e;
        if (performance.now() + delay > deadline) {
          throw new Error(`Silero VAD: cannot reach the inference host at ${this.socketPath} (tried for ${this.reconnectMs} ms): ${(e as Error).message}`);
        }
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1_000);
    }
  }

  /** One connection: hello, then the host's READY (the model is loaded) or REFUSED. */
  private open(): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const sock = connect(this.socketPath);
      const reader = frameReader();
      let ready = false;
      sock.on('connect', () => sock.write(encodeJson(KIND.HELLO, { modelPath: this.modelPath })));
      sock.on('data', (chunk) => {
        let messages: WireMessage[];
        try {
          messages = reader.push(chunk);
        } catch (e) {
          sock.destroy(new Error(`the inference host sent a broken frame: ${(e as Error).message}`));
          return;
        }
        for (const m of messages) {
          if (m.kind === KIND.READY) {
            const wrong = notSileroV5(this.modelPath, m.inputNames);
            if (wrong) {
              sock.destroy();
              return reject(new Refused(wrong));
            }
            ready = true;
            this.sock = sock;
            if (!this.inFlight.size) sock.unref();
            resolve(sock);
          } else if (m.kind === KIND.REFUSED) {
            sock.destroy();
            return reject(new Refused(`Silero VAD: cannot load ${this.modelPath}: ${m.message}`));
          } else if (m.kind === KIND.RESULT) this.answer(m.id, m);
          else if (m.kind === KIND.FAILED) this.fail(m.id, new Error(`Silero VAD inference failed: ${m.message}`));
        }
      });
      sock.on('error', (e) => !ready && reject(e));
      sock.on('close', () => (ready ? this.dropped(sock) : reject(new Error('the inference host closed the connection'))));
    });
  }

  /** The connection is gone: what was in flight on it goes out again on the next one. */
  private dropped(sock: Socket): void {
    if (this.sock === sock) this.sock = null;
    const lost = [...this.written].filter(([, w]) => w.sock === sock).map(([id]) => id);
    if (this.closed || !lost.length) return;
    this.connection().then(
      (next) => {
        for (const id of lost) {
          const entry = this.inFlight.get(id);
          if (entry) this.write(next, id, entry);
        }
      },
      (e: Error) => {
        for (const id of lost) this.fail(id, e);
      },
    );
  }

  /** Closes the connection; windows gathered or in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.abandon(new Error('Silero VAD model closed'));
    this.sock?.destroy();
    this.sock = null;
  }
}
