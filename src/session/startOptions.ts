import type { Agent } from '../agent.ts';

/** What `session.start()` takes. */
export interface StartOptions {
  agent: Agent;
  /** An `@livekit/rtc-node` Room: the session is served there through a RoomIO (see src/room). */
  room?: unknown;
  /** `RoomInputOptions` (src/room/options.ts). */
  roomInputOptions?: unknown;
  /** `RoomOutputOptions` (src/room/options.ts). */
  roomOutputOptions?: unknown;
}
