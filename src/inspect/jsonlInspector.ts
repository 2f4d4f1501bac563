/**
 * An inspector writing one JSON line per inspection event (see InspectionRecord) to a file or stream. It never
 * blocks or breaks the actors it watches: a slow stream makes it drop lines (and say how many in a final line),
 * a failing stream stops the log and is reported through `onError` and `stop()`.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { InspectionEvent } from 'xstate';
import { toInspectionRecord, type RecordOptions } from './inspectionRecord.ts';
import type { InspectionType, Inspector } from './types.ts';

export interface JsonlInspectorOptions extends RecordOptions {
  /** Event types to log; all by default. */
  types?: readonly InspectionType[];
  /** Lines are dropped while this many bytes wait in the stream's buffer (default 16 MiB). */
  maxBufferedBytes?: number;
  /** End the stream on stop(). Default: true for a path, false for a stream you passed (e.g. process.stdout). */
  end?: boolean;
  /** Called once, on the first write or conversion error. Default: one console.warn. */
  onError?: (error: Error) => void;
}

export interface JsonlInspector extends Inspector {
  /** Lines written so far. */
  readonly lines: number;
  /** Lines dropped because the stream fell behind or had failed. */
  readonly dropped: number;
  /** The first error met, if any. */
  readonly error: Error | undefined;
}

/** Written last when lines were dropped, so a reader of the file knows it is incomplete. */
export const DROPPED_LINES_TYPE = 'voicechart.inspect.dropped';

export function jsonlInspector(target: string | Writable, options: JsonlInspectorOptions = {}): JsonlInspector {
  const ownsStream = typeof target === 'string';
  const stream: Writable = ownsStream ? createWriteStream(target, { flags: 'w' }) : target;
  const end = options.end ?? ownsStream;
  const types = options.types ? new Set<string>(options.types) : undefined;
  const maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  let lines = 0;
  let dropped = 0;
  let error: Error | undefined;
  let stopped = false;

  const fail = (err: unknown) => {
    if (error) return;
    error = err instanceof Error ? err : new Error(String(err));
    if (options.onError) options.onError(error);
    else console.warn(`voicechart jsonlInspector: ${error.message} (further inspection lines are dropped)`);
  };
  const onStreamError = (err: Error) => fail(err);
  stream.on('error', onStreamError);

  const write = (line: string) => {
    if (error || stream.destroyed || stream.writableEnded) return void dropped++;
    if (stream.writableLength > maxBuffered) return void dropped++;
    stream.write(line + '\n');
    lines++;
  };

  const inspect = (ev: InspectionEvent) => {
    if (stopped || (types && !types.has(ev.type))) return;
    try {
      write(JSON.stringify(toInspectionRecord(ev, options)));
    } catch (err) {
      // A conversion bug must not surface inside XState's start()/send().
      dropped++;
      fail(err);
    }
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (dropped > 0 && !error && !stream.destroyed && !stream.writableEnded) {
      stream.write(JSON.stringify({ t: Date.now(), type: DROPPED_LINES_TYPE, count: dropped }) + '\n');
    }
    // A stream we were given (stdout, a socket) stays open and drains on its own; one we opened is ended and
    // flushed, so the file is complete when stop() resolves.
    if (end && !error && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        if (stream.writableFinished) return resolve();
        stream.once('finish', resolve);
        stream.once('error', () => resolve());
        stream.end();
      });
    }
    stream.off('error', onStreamError);
    if (error) {
      // Keep later stream errors from becoming uncaught exceptions once our listener is gone.
      stream.on('error', () => {});
      throw new Error(`jsonlInspector: inspection log incomplete: ${error.message}`, { cause: error });
    }
  };

  return {
    inspect,
    stop,
    get lines() {
      return lines;
    },
    get dropped() {
      return dropped;
    },
    get error() {
      return error;
    },
  };
}
