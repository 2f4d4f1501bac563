import type OpenAI from 'openai';
import { connectOptions, type APIConnectOptions } from '../../providers/retry.ts';

/** The key from the options or OPENAI_API_KEY; a local OpenAI-compatible server (baseURL) needs none. */
export function openaiKey(opts: { apiKey?: string; baseURL?: string }, who: string): string {
  const key = opts.apiKey || process.env.OPENAI_API_KEY || (opts.baseURL ? 'not-needed' : undefined);
  if (!key) throw new Error(`${who} needs an API key: set OPENAI_API_KEY or pass apiKey (or a baseURL for a local server)`);
  return key;
}

/** What every HTTP plugin accepts besides its model options. */
export interface HTTPClientOptions {
  apiKey?: string;
  /** Any OpenAI-compatible server. */
  baseURL?: string;
  connOptions?: Partial<APIConnectOptions>;
  /** The fetch the SDK uses (default the global one): a proxy agent, request logging, timing. */
  fetch?: typeof globalThis.fetch;
}

/**
 * One SDK client per plugin instance; retries are ours (`withRetries`), so the SDK's are off. The key is checked at
 * once (a missing one is a clear error when the plugin is made); the SDK itself is loaded with the first request, so
 * a process that never calls OpenAI (a job whose agent uses other providers) does not hold it (about 13 MB).
 */
export function openaiClient(opts: HTTPClientOptions, who: string) {
  const conn = connectOptions(opts.connOptions);
  const apiKey = openaiKey(opts, who);
  const baseURL = opts.baseURL ?? process.env.OPENAI_BASE_URL;
  let made: Promise<OpenAI> | null = null;
  const client = (): Promise<OpenAI> =>
    (made ??= import('openai').then(
      ({ default: SDK }) => new SDK({ apiKey, baseURL, maxRetries: 0, timeout: conn.timeout, ...(opts.fetch ? { fetch: opts.fetch } : {}) }),
    ));
  return { client, conn };
}

/** The SDK's `toFile`, loaded with the SDK. */
export const openaiToFile: typeof import('openai').toFile = async (...args) => (await import('openai')).toFile(...args);
