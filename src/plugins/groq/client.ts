import type Groq from 'groq-sdk';
import { connectOptions } from '../../providers/retry.ts';
import type { HTTPClientOptions } from '../openai/client.ts';

/**
 * One groq-sdk client per plugin instance, keyed from the options or GROQ_API_KEY; retries are ours, so the SDK's are
 * off. The key is checked at once; the SDK is loaded with the first request (see openaiClient).
 */
export function groqClient(opts: HTTPClientOptions, who: string) {
  const apiKey = opts.apiKey || process.env.GROQ_API_KEY;
  if (!apiKey) throw new Error(`${who} needs an API key: set GROQ_API_KEY or pass apiKey`);
  const conn = connectOptions(opts.connOptions);
  let made: Promise<Groq> | null = null;
  const client = (): Promise<Groq> =>
    (made ??= import('groq-sdk').then(({ default: SDK }) => new SDK({ apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: conn.timeout, ...(opts.fetch ? { fetch: opts.fetch } : {}) })));
  return { client, conn };
}

/** The SDK's `toFile`, loaded with the SDK. */
export const groqToFile: typeof import('groq-sdk').toFile = async (...args) => (await import('groq-sdk')).toFile(...args);
