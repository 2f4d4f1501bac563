import { and, assign, setup } from 'xstate';

/** What the link logic needs to know of a remote participant (plain data, no SDK objects). */
export interface ParticipantFacts {
  identity: string;
  /** rtc-node ParticipantKind; undefined when the server did not say. */
  kind?: number;
  /** The `lk.publish_on_behalf` attribute (avatar workers publishing for an agent). */
  publishOnBehalf?: string;
}

export interface ParticipantLinkInput {
  pinned: string | null;
  allowedKinds: number[];
  closeOnDisconnect: boolean;
  /** Disconnect reasons that mean "left for good". */
  closeReasons: number[];
}

export interface ParticipantLinkContext extends ParticipantLinkInput {
  linked: string | null;
  agentIdentity: string | null;
}

export type ParticipantLinkEvent =
  | { type: 'CONNECTED'; agentIdentity: string }
  | { type: 'PARTICIPANT_JOINED'; participant: ParticipantFacts }
  | { type: 'PARTICIPANT_LEFT'; identity: string; reason: number | undefined }
  | { type: 'SET_PARTICIPANT'; identity: string | null }
  | { type: 'STOP' };

/**
 * Which remote participant a RoomIO listens to. One at a time: the pinned identity, else the first participant of an
 * allowed kind that is not an avatar publishing for this agent. A participant who leaves stays pinned, so the same
 * identity is linked again when it rejoins and nobody else is picked up; leaving for good (a close reason) closes
 * the session when `closeOnDisconnect` is set. Effects are provided by the RoomIO: `link` / `unlink` (read
 * `context.linked` / the event), `offerParticipants` (re-offer everyone in the room), `closeSession`.
 */
export const participantLinkMachine = setup({
  types: {
    context: {} as ParticipantLinkContext,
    events: {} as ParticipantLinkEvent,
    input: {} as ParticipantLinkInput,
  },
  guards: {
    mayLink: ({ context, event }) => {
      if (event.type !== 'PARTICIPANT_JOINED') return false;
      const p = event.participant;
      if (context.pinned !== null) return p.identity === context.pinned;
      if (context.agentIdentity !== null && p.publishOnBehalf === context.agentIdentity) return false;
      return p.kind === undefined || context.allowedKinds.includes(p.kind);
    },
    isLinkedParticipant: ({ context, event }) => event.type === 'PARTICIPANT_LEFT' && context.linked === event.identity,
    leftForGood: ({ context, event }) =>
      event.type === 'PARTICIPANT_LEFT' && context.closeOnDisconnect && event.reason !== undefined && context.closeReasons.includes(event.reason),
  },
  actions: {
    /** Called after `context.linked` names the new participant. */
    link: () => {},
    /** Called while `context.linked` still names the participant being unlinked. */
    unlink: () => {},
    offerParticipants: () => {},
    closeSession: () => {},
  },
}).createMachine({
  id: 'participantLink',
  context: ({ input }) => ({ ...input, linked: null, agentIdentity: null }),
  initial: 'unlinked',
  on: {
    STOP: '.stopped',
  },
  states: {
    unlinked: {
      on: {
        CONNECTED: { actions: [assign({ agentIdentity: ({ event }) => event.agentIdentity }), 'offerParticipants'] },
        PARTICIPANT_JOINED: {
          guard: 'mayLink',
          target: 'linked',
          actions: [assign({ linked: ({ event }) => event.participant.identity }), 'link'],
        },
        SET_PARTICIPANT: { actions: [assign({ pinned: ({ event }) => event.identity }), 'offerParticipants'] },
      },
    },
    linked: {
      // Leaving unpins nothing: the identity that was linked stays pinned for its rejoin.
      exit: ['unlink', assign({ pinned: ({ context }) => context.linked ?? context.pinned, linked: null })],
      on: {
        CONNECTED: { actions: assign({ agentIdentity: ({ event }) => event.agentIdentity }) },
        PARTICIPANT_LEFT: [
          { guard: and(['isLinkedParticipant', 'leftForGood']), target: 'unlinked', actions: 'closeSession' },
          { guard: 'isLinkedParticipant', target: 'unlinked' },
        ],
        SET_PARTICIPANT: {
          target: 'unlinked',
          // Runs after the exit actions: the new pin replaces the old identity.
          actions: [assign({ pinned: ({ event }) => event.identity }), 'offerParticipants'],
        },
      },
    },
    stopped: { type: 'final' },
  },
});
