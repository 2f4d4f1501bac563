import { setup } from 'xstate';

/**
 * The turn-taking contract as a user would describe it, with no effects: model-based tests walk its paths
 * (`@xstate/graph`) and replay each one against a real AgentSession, checking that the session's agent and user
 * states match the model's state after every step. No `invoke`/`after` here: the test model must stay pure.
 */
export const turnTakingModel = setup({
  types: {
    events: {} as
      | { type: 'USER_STARTS' }
      | { type: 'USER_STOPS_WITH_WORDS' }
      | { type: 'USER_STOPS_SILENT' }
      | { type: 'REPLY_AUDIO_STARTS' }
      | { type: 'PLAYOUT_ENDS' }
      | { type: 'TEXT_INPUT' },
  },
}).createMachine({
  id: 'turnTakingModel',
  initial: 'listening',
  states: {
    /** Both parties silent. */
    listening: {
      tags: ['agent:listening', 'user:listening'],
      on: { USER_STARTS: 'userSpeaking', TEXT_INPUT: 'thinking' },
    },
    /** The user talks; any agent speech was cut (barge-in) or never started. */
    userSpeaking: {
      tags: ['agent:listening', 'user:speaking'],
      on: { USER_STOPS_WITH_WORDS: 'thinking', USER_STOPS_SILENT: 'listening' },
    },
    /** The user's turn is committed; the reply is being generated. */
    thinking: {
      tags: ['agent:thinking', 'user:listening'],
      on: { REPLY_AUDIO_STARTS: 'speaking', USER_STARTS: 'userSpeaking' },
    },
    speaking: {
      tags: ['agent:speaking', 'user:listening'],
      on: { PLAYOUT_ENDS: 'listening', USER_STARTS: 'userSpeaking', TEXT_INPUT: 'thinking' },
    },
  },
});
