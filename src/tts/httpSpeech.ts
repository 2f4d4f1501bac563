/**
 * What the HTTP speech plugins (OpenAI, Groq) share: long text as consecutive requests, each retried on its own, and
 * a check that the response really is the audio format asked for.
 */
import { concatMap, from, type Observable } from 'rxjs';
import { APIError } from '../providers/errors.ts';
import { withOverrides, withRetries, type APIConnectOptions } from '../providers/retry.ts';
import type { ProviderCallOptions, SynthesizedAudio } from '../providers/types.ts';
import { markFinal } from './markFinal.ts';

/** Splits text into pieces of at most `max` characters, at a sentence end or else a space when there is one. */
export function splitForSpeech(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = Math.max(window.lastIndexOf('. '), window.lastIndexOf('! '), window.lastIndexOf('? '), window.lastIndexOf('\n'));
    cut = cut > max / 2 ? cut + 1 : window.lastIndexOf(' ');
    if (cut <= 0) cut = max;
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/**
 * Synthesizes `text` as requests of at most `maxChars` characters, one after another (nothing to say is no request),
 * each with the provider's retries (and the call's overrides); the last frame is marked final.
 */
export function synthesizeInPieces(
  text: string,
  maxChars: number,
  conn: APIConnectOptions,
  call: ProviderCallOptions | undefined,
  request: (piece: string, signal: AbortSignal) => Observable<SynthesizedAudio>,
): Observable<SynthesizedAudio> {
  return from(splitForSpeech(text.trim(), maxChars)).pipe(
    concatMap((piece) => withRetries((signal) => request(piece, signal), withOverrides(conn, call?.connOptions), call?.onError)),
    markFinal(),
  );
}

/**
 * The body of a speech response, once its content type is one of `types` (an absent type is given the benefit of
 * the doubt); anything else (JSON, HTML, another audio format) is a non-retryable error quoting a text body.
 */
export async function audioBody(res: Response, types: ReadonlySet<string>, expected: string, label: string): Promise<ReadableStream<Uint8Array>> {
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && !types.has(type)) {
    const head = /json|text|html|xml/.test(type) ? `: ${(await res.text()).slice(0, 200)}` : '';
    throw new APIError(`expected ${expected} from ${label}, got ${type}${head}`, { retryable: false });
  }
  if (!res.body) throw new APIError(`empty audio response from ${label}`, { retryable: true });
  return res.body;
}
