import { RoomServiceClient } from 'livekit-server-sdk';

/** How long a room deletion may take before it is given up (LiveKit's default API timeout). */
const DELETE_TIMEOUT_MS = 10_000;

/** The HTTP base of a LiveKit server from its ws(s) URL. */
export function httpUrl(url: string): string {
  return url.replace(/^ws(s?):\/\//, 'http$1://');
}

/**
 * Deletes a room through the server API (everyone is disconnected with ROOM_DELETED). A room that is already gone
 * counts as deleted. Credentials come from the options, else LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET.
 */
export async function deleteRoom(name: string, creds: { livekitUrl?: string; apiKey?: string; apiSecret?: string }): Promise<void> {
  const url = creds.livekitUrl ?? process.env.LIVEKIT_URL;
  const key = creds.apiKey ?? process.env.LIVEKIT_API_KEY;
  const secret = creds.apiSecret ?? process.env.LIVEKIT_API_SECRET;
  if (!name) throw new Error('deleteRoomOnClose: the room has no name (was it connected?)');
  if (!url || !key || !secret) throw new Error('deleteRoomOnClose needs livekitUrl, apiKey and apiSecret (or LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)');
  const client = new RoomServiceClient(httpUrl(url), key, secret);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`automatic room deletion of ${name} timed out after ${DELETE_TIMEOUT_MS} ms`)), DELETE_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.deleteRoom(name), timeout]);
  } catch (e) {
    if (/not.?found/i.test(String((e as { code?: string })?.code ?? '') + String((e as Error)?.message ?? ''))) return;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
