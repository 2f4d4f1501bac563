/**
 * The worker's HTTP endpoints, for load balancers and orchestrators (Kubernetes probes):
 * - `GET /` → 200 "OK" while the worker is registered with the server, else 503 (connecting, reconnecting, closed);
 * - `GET /worker` → JSON: agent_name, worker_type, worker_id, active_jobs, worker_load, draining, sdk_version,
 *   protocol_version 1, project_type "nodejs".
 * Anything else is 404; a method other than GET/HEAD is 405. It answers from the worker's state; it decides nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WorkerHealth {
  registered: boolean;
  agentName: string;
  type: string;
  workerId: string | null;
  activeJobs: number;
  load: number;
  draining: boolean;
  sdkVersion: string;
}

export class HealthServer {
  private server: Server | null = null;

  constructor(private readonly health: () => WorkerHealth) {}

  /** Listens; resolves with the port (0 picks a free one). Rejects with a clear message when the port is taken. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const path = new URL(req.url ?? '/', 'http://worker').pathname;
      const h = this.health();
      if (path === '/') {
        res.writeHead(h.registered ? 200 : 503, { 'content-type': 'text/plain' }).end(h.registered ? 'OK' : 'not registered with the LiveKit server');
      } else if (path === '/worker') {
        const body = JSON.stringify({
          agent_name: h.agentName,
          worker_type: h.type === 'publisher' ? 'JT_PUBLISHER' : 'JT_ROOM',
          worker_id: h.workerId,
          active_jobs: h.activeJobs,
          worker_load: h.load,
          draining: h.draining,
          sdk_version: h.sdkVersion,
          protocol_version: 1,
          project_type: 'nodejs',
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    });
    this.server = server;
    return new Promise<number>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Error(e.code === 'EADDRINUSE' ? `health endpoint: ${host}:${port} is in use (set httpPort, or --http-port 0 for a free port)` : `health endpoint: ${e.message}`)),
      );
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
