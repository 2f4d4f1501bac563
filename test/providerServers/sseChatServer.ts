/**
 * A local server speaking OpenAI's chat-completions streaming protocol (Server-Sent Events), for plugin tests.
 * Each request takes the next scripted response; requests are recorded for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Scripted =
  | { kind: 'stream'; chunks: unknown[]; delayMs?: number; noDone?: boolean; dropAfter?: number; raw?: string[] }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' };

export interface Recorded {
  path: string;
  body: any;
  closedEarly: boolean;
  /** performance.now() when the request arrived and when its response was fully written. */
  receivedAt: number;
  doneAt?: number;
}

export const chunk = (content?: string, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-test',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'test-model',
  choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: null, ...extra }],
});
export const toolChunk = (index: number, fn: { name?: string; arguments?: string }, id?: string) => ({
  ...chunk(),
  choices: [{ index: 0, delta: { tool_calls: [{ index, ...(id ? { id, type: 'function' } : {}), function: fn }] }, finish_reason: null }],
});
export const finish = (reason: string) => ({ ...chunk(), choices: [{ index: 0, delta: {}, finish_reason: reason }] });
export const usage = (p: number, c: number) => ({ ...chunk(), choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } });

export async function startChatServer(opts: { fallback?: Scripted } = {}) {
  const script: Scripted[] = [];
  const requests: Recorded[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = performance.now();
    let raw = '';
    for await (const c of req) raw += c;
    const rec: Recorded = { path: req.url ?? '', body: raw ? JSON.parse(raw) : null, closedEarly: false, receivedAt };
    requests.push(rec);
    open.add(res);
    let finished = false;
    res.on('close', () => {
      open.delete(res);
      if (!finished) rec.closedEarly = true;
    });
    const next = script.shift() ?? opts.fallback ?? { kind: 'status', status: 500, body: { error: { message: 'no scripted response' } } };
    if (next.kind === 'hang') return;
    if (next.kind === 'status') {
      finished = true;
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      return res.end(JSON.stringify(next.body ?? { error: { message: `status ${next.status}`, type: 'server_error' } }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const lines = next.raw ?? next.chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`);
    for (let i = 0; i < lines.length; i++) {
      if (next.dropAfter !== undefined && i === next.dropAfter) {
        res.socket?.destroy();
        return;
      }
      res.write(lines[i]);
      if (next.delayMs) await new Promise((r) => setTimeout(r, next.delayMs));
      if (res.destroyed) return;
    }
    if (!next.noDone) res.write('data: [DONE]\n\n');
    finished = true;
    res.end();
    rec.doneAt = performance.now();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    script,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.socket?.destroy();
        server.closeAllConnections(); // idle keep-alive sockets too, or close() waits for them
        server.close(() => r());
      }),
  };
}
