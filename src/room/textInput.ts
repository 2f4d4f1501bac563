import type { Room, TextStreamReader } from '@livekit/rtc-node';
import type { TextInputEvent } from './options.ts';

export const TOPIC_CHAT = 'lk.chat';

/** Longest chat message accepted (characters); longer ones are refused with an error, not sent to the LLM. */
export const MAX_CHAT_CHARS = 20_000;

/**
 * Registers the `lk.chat` handler: text from the linked participant (or anyone, while nobody is linked or pinned)
 * is read whole and handed to `onText`; text from anyone else is dropped. Returns the unregister function, or null
 * when another handler already owns the topic in this room.
 */
export function registerChatInput(
  room: Room,
  opts: {
    /** The identity allowed to type, or null when nobody is linked or pinned yet. */
    allowed: () => string | null;
    onText: (ev: TextInputEvent) => void;
    onError: (e: Error) => void;
  },
): (() => void) | null {
  try {
    room.registerTextStreamHandler(TOPIC_CHAT, (reader: TextStreamReader, { identity }: { identity: string }) => {
      const allowed = opts.allowed();
      if ((allowed !== null && identity !== allowed) || !room.remoteParticipants.has(identity)) {
        void reader.readAll().catch(() => undefined);
        return;
      }
      void reader.readAll().then(
        (text) => {
          if (text.length > MAX_CHAT_CHARS) {
            opts.onError(new RangeError(`chat message from ${identity} is ${text.length} characters (limit ${MAX_CHAT_CHARS}); ignored`));
            return;
          }
          if (!text.trim()) return;
          opts.onText({ text, info: reader.info, participantIdentity: identity });
        },
        (e: unknown) => opts.onError(e instanceof Error ? e : new Error(String(e))),
      );
    });
  } catch (e) {
    opts.onError(new Error(`lk.chat already has a handler in this room; text input is off (${e instanceof Error ? e.message : String(e)})`));
    return null;
  }
  return () => room.unregisterTextStreamHandler(TOPIC_CHAT);
}
