/**
 * A local server speaking OpenAI's audio endpoints: multipart transcription uploads (`POST /v1/audio/transcriptions`,
 * also under Groq's `/openai/v1` prefix) and raw PCM speech bodies (`POST /v1/audio/speech`) streamed in chunks.
 * Responses are scripted, one per request in order (then `fallback`, else 500); requests are recorded.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AudioScript =
  | { kind: 'transcript'; text: string; delayMs?: number }
  /** A PCM body in `chunkBytes` pieces, `delayMs` apart; `dropAfterBytes` cuts the connection midway. */
  | { kind: 'pcm'; samples: Int16Array | Uint8Array; chunkBytes: number; delayMs?: number; contentType?: string; dropAfterBytes?: number }
  /** Any status; `rawBody` is sent as is (e.g. broken JSON), else `body` as JSON. */
  | { kind: 'status'; status: number; body?: unknown; rawBody?: string; contentType?: string; headers?: Record<string, string> }
  | { kind: 'hang' };

export interface AudioRequest {
  path: string;
  headers: IncomingHttpHeaders;
  fields: Record<string, string>;
  file?: { name: string; type: string; bytes: Uint8Array };
  json?: any;
  /** The client went away before the response was complete (an aborted request). */
  closedEarly: boolean;
}

export async function startAudioServer(opts: { fallback?: AudioScript } = {}) {
  const script: AudioScript[] = [];
  const requests: AudioRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const rec: AudioRequest = { path: req.url ?? '', headers: req.headers, fields: {}, closedEarly: false };
    requests.push(rec);
    let done = false;
    res.on('close', () => !done && (rec.closedEarly = true));
    if ((req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
      const form = await new Request('http://local' + req.url, { method: 'POST', headers: req.headers as Record<string, string>, body: raw }).formData();
      for (const [k, v] of form as unknown as Iterable<[string, string | File]>) {
        if (typeof v === 'string') rec.fields[k] = v;
        else rec.file = { name: v.name, type: v.type, bytes: new Uint8Array(await v.arrayBuffer()) };
      }
    } else if (raw.length) rec.json = JSON.parse(raw.toString());
    const next = script.shift() ?? opts.fallback ?? { kind: 'status', status: 500 };
    if (next.kind === 'hang') return;
    if (next.kind === 'status') {
      done = true;
      res.writeHead(next.status, { 'content-type': next.contentType ?? 'application/json', ...next.headers });
      return res.end(next.rawBody ?? JSON.stringify(next.body ?? { error: { message: `status ${next.status}`, type: 'server_error' } }));
    }
    if (next.kind === 'transcript') {
      if (next.delayMs) await new Promise((r) => setTimeout(r, next.delayMs));
      if (res.destroyed) return;
      done = true;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ text: next.text }));
    }
    res.writeHead(200, { 'content-type': next.contentType ?? 'audio/pcm' });
    const bytes = Buffer.from(next.samples.buffer, next.samples.byteOffset, next.samples.byteLength);
    for (let i = 0; i < bytes.length; i += next.chunkBytes) {
      if (res.destroyed) return;
      if (next.dropAfterBytes !== undefined && i >= next.dropAfterBytes) return res.destroy();
      res.write(bytes.subarray(i, i + next.chunkBytes));
      if (next.delayMs) await new Promise((r) => setTimeout(r, next.delayMs));
    }
    done = true;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, script, requests, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}
