/**
 * A local server speaking OpenAI's audio endpoints: multipart transcription uploads (also under Groq's
 * /openai/v1 prefix) and raw PCM speech bodies streamed in chunks. Responses are scripted; requests recorded.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AudioScript =
  | { kind: 'transcript'; text: string }
  | { kind: 'pcm'; samples: Int16Array; chunkBytes: number; delayMs?: number; contentType?: string }
  | { kind: 'status'; status: number; body?: unknown; contentType?: string }
  | { kind: 'hang' };

export interface AudioRequest {
  path: string;
  fields: Record<string, string>;
  file?: { name: string; type: string; bytes: Uint8Array };
  json?: any;
  closedEarly: boolean;
}

export async function startAudioServer(opts: { fallback?: AudioScript } = {}) {
  const script: AudioScript[] = [];
  const requests: AudioRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const rec: AudioRequest = { path: req.url ?? '', fields: {}, closedEarly: false };
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
      res.writeHead(next.status, { 'content-type': next.contentType ?? 'application/json' });
      return res.end(JSON.stringify(next.body ?? { error: { message: `status ${next.status}` } }));
    }
    if (next.kind === 'transcript') {
      done = true;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ text: next.text }));
    }
    res.writeHead(200, { 'content-type': next.contentType ?? 'audio/pcm' });
    const bytes = Buffer.from(next.samples.buffer, next.samples.byteOffset, next.samples.byteLength);
    for (let i = 0; i < bytes.length; i += next.chunkBytes) {
      if (res.destroyed) return;
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
