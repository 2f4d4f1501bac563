import type { ServerMessage } from '@livekit/protocol';
import WebSocket from 'ws';
import { fromCallback } from 'xstate';
import { decodeServerMessage } from '../src/worker/protocol.ts';

export interface WorkerSocketInput {
  /** The `/agent` endpoint (see agentEndpoint()). */
  endpoint: string;
  /** A fresh worker token per attempt: a reconnect hours later must not reuse an expired one. */
  token: () => Promise<string>;
  registerFrame: Uint8Array;
  /** Every server frame after registration (availability, assignment, termination, pong). */
  onMessage: (msg: ServerMessage) => void;
  /** The way to send while this socket is open; null once it is gone. */
  onSender: (send: ((frame: Uint8Array) => void) | null) => void;
  onWarning: (text: string) => void;
}

/**
 * One WebSocket to the server's `/agent` endpoint: sends RegisterWorkerRequest once open, reports
 * `socket.registered` on the reply and `socket.closed` when the link drops (or never came up). Stopping the
 * actor closes the socket. Malformed frames are reported and skipped, never fatal.
 */
export const workerSocket = (input: WorkerSocketInput) =>
  fromCallback<{ type: 'noop' }>(({ sendBack }) => {
  let ws: WebSocket | null = null;
  let stopped = false;
  let closedSent = false;
  const closed = (error?: string) => {
    if (closedSent || stopped) return;
    closedSent = true;
    input.onSender(null);
    sendBack({ type: 'socket.closed', error });
  };
  let registered = false;
  input
    .token()
    .then((token) => {
      if (stopped) return;
      ws = new WebSocket(input.endpoint, { headers: { Authorization: `Bearer ${token}` }, handshakeTimeout: 10_000 });
      ws.binaryType = 'nodebuffer';
      ws.on('open', () => ws!.send(input.registerFrame));
      ws.on('unexpected-response', (_req, res) => {
        closed(`server refused the worker connection: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (check the API key and secret)' : ''}`);
        ws?.terminate();
      });
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return input.onWarning('ignored a text frame on the agent socket');
        const msg = decodeServerMessage(new Uint8Array(data as Buffer));
        if (msg instanceof Error) return input.onWarning(msg.message);
        if (!registered) {
          if (msg.message.case !== 'register') {
            closed(`expected a registration reply, got ${msg.message.case ?? 'an empty message'}`);
            return ws?.close();
          }
          registered = true;
          input.onSender((frame) => ws?.readyState === WebSocket.OPEN && ws.send(frame));
          return sendBack({ type: 'socket.registered', workerId: msg.message.value.workerId });
        }
        input.onMessage(msg);
      });
      ws.on('error', (e) => closed(e.message));
      ws.on('close', (code, reason) => closed(`socket closed (${code}${reason.length ? `: ${reason}` : ''})`));
    })
    .catch((e: Error) => closed(`could not mint the worker token: ${e.message}`));
  return () => {
    stopped = true;
    input.onSender(null);
    ws?.close();
  };
});
