import { assign, not, setup } from 'xstate';
import type { AgentState } from './activity.ts';

/**
 * Background audio for one session: which sounds play, and who uses the audio output at each moment.
 *
 * The player takes over the session's audio output only while no agent audio can be in flight there (the facts
 * in START / AGENT_STATE say so), so a segment that began on the bare output is never mixed or miscounted.
 *
 * Once active, two regions run side by side:
 * - `sound`: the thinking sound plays while the agent thinks (agent state `thinking`), and stops when it speaks or
 *   listens, or as soon as its first frame of speech reaches the output (its state turns `speaking` only when that
 *   audio is heard, and the thinking sound must not be mixed into its voice meanwhile).
 * - `output`: one segment at a time reaches the device. Between the agent's segments the background is a segment of
 *   its own, kept a little ahead of real time by TICKs. When the agent's audio arrives, the background segment is
 *   flushed (what was queued plays out, at most the lead) and the agent's frames are held until the device reports
 *   that segment finished; from then on the device's segment is the agent's own, so its playback events and
 *   positions are exactly the device's. A flush or clear from the agent meanwhile is kept or answered here.
 *
 * The context is plain data; effects are named actions the runtime provides.
 */
export interface BackgroundAudioContext {
  agentState: AgentState;
  /** No agent audio can be in flight on the bare output (the session is not started, or idle). */
  outputIdle: boolean;
  /** The agent flushed its segment while its frames were held. */
  flushHeld: boolean;
}

export type BackgroundAudioEvent =
  | { type: 'START'; agentState: AgentState; outputIdle: boolean }
  | { type: 'AGENT_STATE'; agentState: AgentState; outputIdle: boolean }
  /** The pump's beat; `audible`: some background sound is playing. */
  | { type: 'TICK'; audible: boolean }
  /** The agent's output calls, as they reach the mixing output. */
  | { type: 'AGENT_FRAME' }
  | { type: 'AGENT_FLUSH' }
  | { type: 'AGENT_CLEAR' }
  /** The device's playback events. */
  | { type: 'DEVICE_STARTED' }
  | { type: 'DEVICE_FINISHED' }
  /** Stop every background sound; the output keeps passing the agent's audio through. */
  | { type: 'CLOSE' };

export const backgroundAudioMachine = setup({
  types: {
    context: {} as BackgroundAudioContext,
    events: {} as BackgroundAudioEvent,
  },
  guards: {
    outputIdle: ({ context }) => context.outputIdle,
    agentThinking: ({ context }) => context.agentState === 'thinking',
    eventThinking: ({ event }) => event.type === 'AGENT_STATE' && event.agentState === 'thinking',
    audible: ({ event }) => event.type === 'TICK' && event.audible,
    flushHeld: ({ context }) => context.flushHeld,
  },
  actions: {
    /** Puts the mixing output between the session and its device. */
    attachOutput: () => {},
    startAmbient: () => {},
    startThinking: () => {},
    stopThinking: () => {},
    stopAllSounds: () => {},
    /** Tops the background segment up to the lead. */
    pushBackground: () => {},
    /** Mixes the agent's pending frames with the background and hands them to the device. */
    passAgentFrames: () => {},
    dropAgentFrames: () => {},
    flushDevice: () => {},
    clearDevice: () => {},
    forwardStarted: () => {},
    forwardFinished: () => {},
    /** The agent's segment never reached the device: it ends here, interrupted, nothing heard. */
    reportAgentCleared: () => {},
  },
}).createMachine({
  id: 'backgroundAudio',
  context: { agentState: 'initializing', outputIdle: false, flushHeld: false },
  initial: 'idle',
  on: { CLOSE: '.closed' },
  states: {
    idle: {
      on: {
        START: {
          target: 'attaching',
          actions: assign(({ event }) => ({ agentState: event.agentState, outputIdle: event.outputIdle })),
        },
      },
    },
    attaching: {
      always: { guard: 'outputIdle', target: 'active' },
      on: { AGENT_STATE: { actions: assign(({ event }) => ({ agentState: event.agentState, outputIdle: event.outputIdle })) } },
    },
    active: {
      type: 'parallel',
      entry: ['attachOutput', 'startAmbient'],
      // Once attached, the output stays mixed: a CLOSE silences the sounds, the agent's audio still passes.
      // (Each region handles CLOSE itself: a target in one region from here would re-enter the other.)
      on: { AGENT_STATE: { actions: assign(({ event }) => ({ agentState: event.agentState })) } },
      states: {
        sound: {
          initial: 'deciding',
          on: { CLOSE: '.stopped' },
          states: {
            deciding: { always: [{ guard: 'agentThinking', target: 'thinking' }, { target: 'calm' }] },
            calm: { on: { AGENT_STATE: { guard: 'eventThinking', target: 'thinking' } } },
            thinking: {
              entry: 'startThinking',
              exit: 'stopThinking',
              on: {
                AGENT_STATE: { guard: not('eventThinking'), target: 'calm' },
                AGENT_FRAME: 'calm',
              },
            },
            stopped: { entry: 'stopAllSounds', type: 'final' },
          },
        },
        output: {
          initial: 'silent',
          on: { CLOSE: { actions: [] } },
          states: {
            silent: {
              on: {
                AGENT_FRAME: { target: 'agent', actions: 'passAgentFrames' },
                TICK: { guard: 'audible', target: 'background', actions: 'pushBackground' },
              },
            },
            background: {
              on: {
                TICK: [{ guard: 'audible', actions: 'pushBackground' }, { target: 'draining', actions: 'flushDevice' }],
                AGENT_FRAME: { target: 'handover', actions: 'flushDevice' },
                CLOSE: { target: 'draining', actions: 'clearDevice' },
                // The device ended the segment by itself (a failed capture): start over.
                DEVICE_FINISHED: 'silent',
              },
            },
            draining: {
              on: {
                DEVICE_FINISHED: 'silent',
                AGENT_FRAME: 'handover',
              },
            },
            handover: {
              entry: assign({ flushHeld: false }),
              on: {
                AGENT_FLUSH: { actions: assign({ flushHeld: true }) },
                AGENT_CLEAR: { target: 'draining', actions: ['dropAgentFrames', 'reportAgentCleared'] },
                DEVICE_FINISHED: [
                  { guard: 'flushHeld', target: 'agent', actions: ['passAgentFrames', 'flushDevice'] },
                  { target: 'agent', actions: 'passAgentFrames' },
                ],
              },
            },
            agent: {
              on: {
                AGENT_FRAME: { actions: 'passAgentFrames' },
                AGENT_FLUSH: { actions: 'flushDevice' },
                AGENT_CLEAR: { actions: 'clearDevice' },
                DEVICE_STARTED: { actions: 'forwardStarted' },
                DEVICE_FINISHED: { target: 'silent', actions: 'forwardFinished' },
              },
            },
          },
        },
      },
    },
    closed: { type: 'final', entry: 'stopAllSounds' },
  },
});
