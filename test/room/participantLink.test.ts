import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { participantLinkMachine, type ParticipantLinkInput } from '../../machines/participantLink.ts';

const STANDARD = 0;
const AGENT = 4;
const SIP = 3;
const CLIENT_INITIATED = 1;
const SIGNAL_CLOSE = 9;

function run(input: Partial<ParticipantLinkInput> = {}) {
  const log: string[] = [];
  const actor = createActor(
    participantLinkMachine.provide({
      actions: {
        link: ({ context }) => log.push(`link ${context.linked}`),
        unlink: ({ context }) => log.push(`unlink ${context.linked}`),
        offerParticipants: () => log.push('offer'),
        closeSession: () => log.push('close'),
      },
    }),
    { input: { pinned: null, allowedKinds: [STANDARD, SIP], closeOnDisconnect: true, closeReasons: [CLIENT_INITIATED], ...input } },
  ).start();
  actor.send({ type: 'CONNECTED', agentIdentity: 'agent' });
  const join = (identity: string, kind = STANDARD, publishOnBehalf?: string) =>
    actor.send({ type: 'PARTICIPANT_JOINED', participant: { identity, kind, publishOnBehalf } });
  return { actor, log, join, linked: () => actor.getSnapshot().context.linked };
}

describe('participantLink machine', () => {
  it('links the first participant of an allowed kind, never agents or an avatar publishing for this agent', () => {
    const t = run();
    t.join('other-agent', AGENT);
    t.join('avatar', STANDARD, 'agent');
    expect(t.linked()).toBeNull();
    t.join('alice');
    t.join('bob');
    expect(t.linked()).toBe('alice');
    expect(t.log).toEqual(['offer', 'link alice']);
  });

  it('links only the pinned identity', () => {
    const t = run({ pinned: 'bob' });
    t.join('alice');
    t.join('bob');
    expect(t.linked()).toBe('bob');
  });

  it('a participant leaving for good closes the session; another reason only unlinks, and the identity stays pinned for its rejoin', () => {
    const t = run();
    t.join('alice');
    t.actor.send({ type: 'PARTICIPANT_LEFT', identity: 'bob', reason: CLIENT_INITIATED });
    expect(t.linked()).toBe('alice');
    t.actor.send({ type: 'PARTICIPANT_LEFT', identity: 'alice', reason: SIGNAL_CLOSE });
    expect(t.linked()).toBeNull();
    expect(t.log).not.toContain('close');
    t.join('bob');
    expect(t.linked()).toBeNull();
    t.join('alice');
    expect(t.linked()).toBe('alice');
    t.actor.send({ type: 'PARTICIPANT_LEFT', identity: 'alice', reason: CLIENT_INITIATED });
    expect(t.log.slice(-2)).toEqual(['unlink alice', 'close']);
  });

  it('closeOnDisconnect false never closes; an unknown reason never closes', () => {
    const a = run({ closeOnDisconnect: false });
    a.join('alice');
    a.actor.send({ type: 'PARTICIPANT_LEFT', identity: 'alice', reason: CLIENT_INITIATED });
    expect(a.log).not.toContain('close');
    const b = run();
    b.join('alice');
    b.actor.send({ type: 'PARTICIPANT_LEFT', identity: 'alice', reason: undefined });
    expect(b.log).not.toContain('close');
  });

  it('setParticipant switches the link and re-offers the room; null unlinks and lets anyone link again', () => {
    const t = run();
    t.join('alice');
    t.actor.send({ type: 'SET_PARTICIPANT', identity: 'bob' });
    expect(t.linked()).toBeNull();
    expect(t.actor.getSnapshot().context.pinned).toBe('bob');
    t.join('alice');
    t.join('bob');
    expect(t.linked()).toBe('bob');
    t.actor.send({ type: 'SET_PARTICIPANT', identity: null });
    expect(t.actor.getSnapshot().context.pinned).toBeNull();
    t.join('carol');
    expect(t.linked()).toBe('carol');
    expect(t.log).toEqual(['offer', 'link alice', 'unlink alice', 'offer', 'link bob', 'unlink bob', 'offer', 'link carol']);
  });
});
