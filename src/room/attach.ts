import type { Room } from '@livekit/rtc-node';
import type { AgentSession } from '../session/agentSession.ts';
import type { RoomInputOptions, RoomOutputOptions } from './options.ts';
import { RoomIO, roomIOFor } from './roomIO.ts';

/**
 * What `session.start({ room })` does: uses the RoomIO built for this session and room (a custom one), else
 * builds one from `roomInputOptions` / `roomOutputOptions`, and starts it before the session starts.
 */
export async function attachRoom(
  session: AgentSession<any>,
  opts: { room?: unknown; roomInputOptions?: unknown; roomOutputOptions?: unknown },
): Promise<RoomIO> {
  const room = opts.room as Room;
  if (!room || typeof room !== 'object' || typeof (room as { on?: unknown }).on !== 'function' || !('remoteParticipants' in room)) {
    throw new TypeError('start({ room }) needs an @livekit/rtc-node Room');
  }
  const io =
    roomIOFor(session, room) ??
    new RoomIO(session, room, {
      inputOptions: opts.roomInputOptions as RoomInputOptions | undefined,
      outputOptions: opts.roomOutputOptions as RoomOutputOptions | undefined,
    });
  await io.start();
  // Inside a worker job whose room this is, the session becomes the job's primary one (its report, its recording).
  const ctx = (await import('../worker/jobContext.ts')).getJobContext();
  if (ctx && ctx.room === room && !ctx._primarySession) ctx.setPrimarySession(session);
  return io;
}
