/**
 * A local server speaking OpenAI's realtime transcription protocol over WebSocket (`/v1/realtime?intent=transcription`):
 * `session.update` with a `transcription` session configures it (or, for a client that sends `OpenAI-Beta:
 * realtime=v1`, the beta `transcription_session.update`; each dialect refuses the other's session events),
 * `input_audio_buffer.append` carries base64 PCM16, and it answers
 * with the server events a real session sends. What it "hears" is scripted: with server VAD, every
 * `appendsPerUtterance` appends make one utterance; without, each `input_audio_buffer.commit` does.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type RealtimeFailure =
  | { kind: 'http'; status: number } // refuse the upgrade
  | { kind: 'error_event'; code: string; message: string; type?: string } // right after connecting
  | { kind: 'transcription_failed' } // the next utterance fails, the session goes on
  | { kind: 'garbage' } // a non-JSON text message after the first append
  | { kind: 'drop' }; // close the socket after the first append

export interface RealtimeServerOptions {
  /** What the server hears, one transcript per utterance (then 'more words'). */
  transcripts?: string[];
  appendsPerUtterance?: number;
  /** Delay before an utterance's transcript events (its deltas and completion). */
  transcriptDelayMs?: number;
  /** When set, a connection without `Authorization: Bearer <apiKey>` is refused with 401. */
  apiKey?: string;
  failure?: RealtimeFailure;
}

export interface RealtimeConnection {
  url: string;
  headers: IncomingHttpHeaders;
  messages: Array<{ type: string; [k: string]: unknown }>;
  audioBytes: number;
  closed: boolean;
}

/** The 100 ms the real server requires before a commit (24 kHz PCM16). */
const MIN_COMMIT_BYTES = 4800;

export async function startRealtimeServer(opts: RealtimeServerOptions = {}) {
  const connections: RealtimeConnection[] = [];
  const transcripts = [...(opts.transcripts ?? [])];
  const perUtterance = opts.appendsPerUtterance ?? 5;
  let items = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let failNextTranscription = opts.failure?.kind === 'transcription_failed';

  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req, socket, head) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"message":"${text}"}}`);
    };
    if (!req.url?.startsWith('/v1/realtime')) return refuse(404, 'Not Found');
    if (opts.failure?.kind === 'http') return refuse(opts.failure.status, 'Refused');
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, { url: req.url!, headers: req.headers, messages: [], audioBytes: 0, closed: false }));
  });

  function serve(ws: WebSocket, conn: RealtimeConnection) {
    connections.push(conn);
    const send = (o: object) => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ event_id: `ev_${Math.random().toString(36).slice(2)}`, ...o }));
    let serverVad = true;
    let buffered = 0;
    let appends = 0;
    ws.on('close', () => (conn.closed = true));
    const beta = conn.headers['openai-beta'] === 'realtime=v1';
    const sessionEvent = beta ? 'transcription_session' : 'session';
    send({ type: `${sessionEvent}.created`, session: { id: 'sess_local', ...(beta ? {} : { type: 'transcription' }) } });
    if (opts.failure?.kind === 'error_event') {
      const { code, message, type } = opts.failure;
      send({ type: 'error', error: { type: type ?? 'invalid_request_error', code, message } });
    }

    /** Commits the buffer as one item and, after the scripted delay, transcribes it. */
    const utterance = () => {
      const item = `item_${++items}`;
      buffered = 0;
      send({ type: 'input_audio_buffer.committed', item_id: item, previous_item_id: null });
      const text = transcripts.shift() ?? 'more words';
      const t = setTimeout(() => {
        timers.delete(t);
        if (failNextTranscription) {
          failNextTranscription = false;
          return send({ type: 'conversation.item.input_audio_transcription.failed', item_id: item, content_index: 0, error: { type: 'server_error', code: 'transcription_failed', message: 'audio could not be decoded' } });
        }
        for (const delta of text.match(/\S+\s*/g) ?? []) send({ type: 'conversation.item.input_audio_transcription.delta', item_id: item, content_index: 0, delta });
        send({ type: 'conversation.item.input_audio_transcription.completed', item_id: item, content_index: 0, transcript: text });
      }, opts.transcriptDelayMs ?? 0);
      timers.add(t);
    };

    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      conn.messages.push(msg);
      if (msg.type === 'transcription_session.update' || msg.type === 'session.update') {
        const input = beta ? msg.session : msg.session?.audio?.input;
        const wrong = msg.type !== `${sessionEvent}.update` || (!beta && (msg.session?.type !== 'transcription' || input?.format?.type !== 'audio/pcm'));
        if (wrong) return send({ type: 'error', error: { type: 'invalid_request_error', code: 'invalid_value', message: `unexpected ${msg.type} for this session` } });
        serverVad = input?.turn_detection != null;
        return send({ type: `${sessionEvent}.updated`, session: msg.session });
      }
      if (msg.type === 'input_audio_buffer.commit') {
        if (buffered < MIN_COMMIT_BYTES) {
          return send({ type: 'error', error: { type: 'invalid_request_error', code: 'input_audio_buffer_commit_empty', message: `buffer too small: ${buffered} bytes` } });
        }
        return utterance();
      }
      if (msg.type !== 'input_audio_buffer.append') return;
      const bytes = Buffer.from(String(msg.audio), 'base64').length;
      conn.audioBytes += bytes;
      buffered += bytes;
      appends++;
      if (appends === 1 && opts.failure?.kind === 'garbage') return ws.send('<html>502 Bad Gateway</html>');
      if (appends === 1 && opts.failure?.kind === 'drop') return ws.close(1011, 'internal error');
      if (!serverVad || appends % perUtterance !== 0) return;
      send({ type: 'input_audio_buffer.speech_started', item_id: `item_${items + 1}`, audio_start_ms: 0 });
      send({ type: 'input_audio_buffer.speech_stopped', item_id: `item_${items + 1}`, audio_end_ms: 100 });
      utterance();
    });
  }

  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  return {
    /** The baseURL to give the plugin (http; the plugin derives ws). */
    baseURL: `http://127.0.0.1:${port}/v1`,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.closeAllConnections();
        http.close(() => r());
      }),
  };
}
