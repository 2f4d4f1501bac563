/**
 * A loopback WebSocket relay for inspection events in Stately's wire format. The app publishes on `/publish`; any
 * other WebSocket path is a viewer that receives every published message. A viewer that connects late first gets
 * the registration and latest snapshot of every actor still alive, so it sees the current picture, not a blank one.
 * Plain HTTP GET `/` serves the viewer page (see viewerPage.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { viewerPage } from './viewerPage.ts';

export interface InspectionRelayOptions {
  /** 0 picks a free port. Default 8080, the port Stately's own tools use. */
  port?: number;
  /** Default 127.0.0.1: inspection data holds transcripts and tool arguments, so it stays on this machine. */
  host?: string;
}

export interface InspectionRelay {
  readonly host: string;
  readonly port: number;
  /** Where the app's inspector connects. */
  readonly publishUrl: string;
  /** Where viewers connect (any path but /publish). */
  readonly viewerUrl: string;
  /** The viewer page. */
  readonly pageUrl: string;
  /** Viewers connected now. */
  viewerCount(): number;
  /** Published messages that were not JSON, and so were not relayed. */
  malformedCount(): number;
  /** Resolves once a publisher is connected. */
  publisherConnected(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const PUBLISH_PATH = '/publish';
const ENDED = new Set(['done', 'error', 'stopped']);

interface ActorReplay {
  actor?: string;
  snapshot?: string;
}

export async function startInspectionRelay(options: InspectionRelayOptions = {}): Promise<InspectionRelay> {
  const host = options.host ?? '127.0.0.1';
  const http: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(viewerPage());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: the viewer page is at /, viewers connect by WebSocket to any path but /publish\n');
    }
  });
  const wss = new WebSocketServer({ server: http, maxPayload: 16 * 1024 * 1024 });
  const viewers = new Set<WebSocket>();
  const publishers = new Set<WebSocket>();
  const replay = new Map<string, ActorReplay>();
  const publisherWaiters = new Set<() => void>();
  let malformed = 0;

  /** Keeps what a late viewer needs; false for a message that is not JSON (viewers would choke on it). */
  const remember = (text: string): boolean => {
    let msg: { type?: unknown; sessionId?: unknown; snapshot?: { status?: unknown } };
    try {
      msg = JSON.parse(text);
    } catch {
      malformed++;
      return false;
    }
    if (typeof msg?.sessionId !== 'string') return true;
    if (msg.type === '@xstate.actor') replay.set(msg.sessionId, { actor: text });
    else if (msg.type === '@xstate.snapshot') {
      if (ENDED.has(String(msg.snapshot?.status))) replay.delete(msg.sessionId);
      else {
        const entry = replay.get(msg.sessionId);
        if (entry) entry.snapshot = text;
      }
    }
    return true;
  };

  wss.on('connection', (ws, req) => {
    // Socket errors (a viewer tab closed mid-frame) end that socket only.
    ws.on('error', () => ws.terminate());
    if (req.url === PUBLISH_PATH) {
      publishers.add(ws);
      ws.on('close', () => publishers.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return void malformed++;
        const text = data.toString();
        if (!remember(text)) return;
        for (const v of viewers) if (v.readyState === WebSocket.OPEN) v.send(text);
      });
      for (const wake of publisherWaiters) wake();
      return;
    }
    viewers.add(ws);
    ws.on('close', () => viewers.delete(ws));
    for (const { actor, snapshot } of replay.values()) {
      if (actor) ws.send(actor);
      if (snapshot) ws.send(snapshot);
    }
  });
  // Errors of the listening socket after start have no caller to go to; they must not crash the app being watched.
  wss.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`inspection relay cannot listen on ${host}:${options.port ?? 8080}: ${err.message}`, { cause: err }));
    http.once('error', onError);
    http.listen(options.port ?? 8080, host, () => {
      http.off('error', onError);
      http.on('error', () => {});
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;

  return {
    host,
    port,
    publishUrl: `ws://${hostForUrl}:${port}${PUBLISH_PATH}`,
    viewerUrl: `ws://${hostForUrl}:${port}/`,
    pageUrl: `http://${hostForUrl}:${port}/`,
    viewerCount: () => viewers.size,
    malformedCount: () => malformed,
    publisherConnected: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (publishers.size > 0) return resolve();
        const timer = setTimeout(() => {
          publisherWaiters.delete(wake);
          reject(new Error(`inspection relay: no publisher connected to ${PUBLISH_PATH} within ${timeoutMs} ms`));
        }, timeoutMs);
        const wake = () => {
          clearTimeout(timer);
          publisherWaiters.delete(wake);
          resolve();
        };
        publisherWaiters.add(wake);
      }),
    close: async () => {
      for (const ws of [...viewers, ...publishers]) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      replay.clear();
    },
  };
}
