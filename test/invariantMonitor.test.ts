/** The invariant monitor on hand-built event sequences: each check fires on a violation and stays quiet otherwise. */
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { AudioFrame } from '../src/audio/frame.ts';
import { ChatContext, createMessage } from '../src/llm/chatContext.ts';
import type { AgentSession } from '../src/session/agentSession.ts';
import type { AgentSessionEvent } from '../src/session/events.ts';
import { FakeAudioOutput, FakeTTS, FaultyTTS, heardWordCount, TracedTTS, trackActors, watchInvariants, type InvariantMonitorOptions } from '../src/testing/index.ts';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

type Emit = { [K in AgentSessionEvent['type']]: Omit<Extract<AgentSessionEvent, { type: K }>, 'createdAt'> }[AgentSessionEvent['type']];

/** Just enough of an AgentSession for the monitor: events, history, output, states. */
function world(opts: Partial<InvariantMonitorOptions> & { canPause?: boolean; tts?: TracedTTS } = {}) {
  const events$ = new Subject<AgentSessionEvent>();
  const device = new FakeAudioOutput({ canPause: opts.canPause ?? true });
  const tts = opts.tts ?? new TracedTTS(new FakeTTS([], { msPerChar: 60 }), { msPerChar: 60 });
  const fake = {
    events$,
    history: new ChatContext(),
    options: { maxEndpointingDelay: 3000 },
    agentState: 'listening',
    userState: 'listening',
    output: { audio: device as unknown, transcription: null },
    currentSpeech: null as null | { id: string; allowInterruptions: boolean },
    lifecycle: 'running',
  };
  const session = fake as unknown as AgentSession;
  const monitor = watchInvariants(session, { tts, ...opts });
  const out = monitor.output!;
  const emit = (ev: Emit) => events$.next({ createdAt: Date.now(), ...ev } as AgentSessionEvent);
  /** Synthesizes `text` and pushes all its audio to the output (as the session's playout does). */
  const play = (text: string, o: { flush?: boolean } = {}) => {
    tts.synthesize(text).subscribe({ next: (a) => out.captureFrame(a.frame), error: () => undefined });
    if (o.flush ?? true) out.flush();
  };
  const invariants = () => monitor.violations.map((v) => v.invariant);
  return { fake, session, monitor, out, device, tts, emit, play, invariants, advance: (ms: number) => vi.advanceTimersByTime(ms) };
}

describe('watchInvariants: one speech at a time (a)', () => {
  it('flags audio of a second speech pushed into the segment of the first', () => {
    const w = world();
    w.play('alpha bravo charlie', { flush: false });
    w.play('delta echo');
    expect(w.invariants()).toEqual(['one_speech']);
    expect(w.monitor.violations[0]!.message).toMatch(/synthesis #2 \("delta echo"\) pushed while the segment of #1/);
    expect(w.monitor.violations[0]!.trail.some((l) => l.includes('segment starts (synthesis #1'))).toBe(true);
  });

  it('flags a second speech pushed after a flush, before the first finished playing', () => {
    const w = world();
    w.play('alpha bravo charlie');
    w.advance(100);
    w.play('delta echo');
    expect(w.monitor.violations[0]!.message).toMatch(/flushed but still playing/);
  });

  it('without a traced TTS, tells speeches apart by the session’s current speech', () => {
    const w = world();
    const frame = () => new AudioFrame(new Int16Array(480), 24000, 1, 480);
    w.fake.currentSpeech = { id: 'speech_a', allowInterruptions: true };
    w.out.captureFrame(frame());
    w.out.captureFrame(frame());
    expect(w.monitor.violations).toEqual([]);
    w.fake.currentSpeech = { id: 'speech_b', allowInterruptions: true };
    w.out.captureFrame(frame());
    expect(w.monitor.violations.map((v) => v.message)).toEqual(['audio of speech speech_b pushed while the segment of speech speech_a is still open']);
    w.out.flush();
    w.advance(100);
    w.out.captureFrame(frame()); // a new segment of speech_b after the first finished: fine
    expect(w.monitor.violations).toHaveLength(1);
  });

  it('accepts speeches one after the other', () => {
    const w = world();
    w.play('alpha bravo charlie');
    w.advance(5000);
    w.play('delta echo');
    w.advance(5000);
    expect(w.monitor.violations).toEqual([]);
  });
});

describe('watchInvariants: never talking over the user (b)', () => {
  it('flags a segment that becomes audible while the user speaks', () => {
    const w = world();
    w.emit({ type: 'user_state_changed', oldState: 'listening', newState: 'speaking' });
    w.play('alpha bravo');
    expect(w.invariants()).toEqual(['no_talk_over_user']);
  });

  it('flags a paused segment resumed into the user speaking only when it first becomes audible', () => {
    const w = world();
    w.out.pause();
    w.play('alpha bravo'); // not audible yet
    w.emit({ type: 'user_state_changed', oldState: 'listening', newState: 'speaking' });
    expect(w.monitor.violations).toEqual([]);
    w.out.resume();
    expect(w.invariants()).toEqual(['no_talk_over_user']);
  });

  it('accepts a barge-in on audio that was already playing, and uninterruptible speeches', () => {
    const w = world();
    w.play('alpha bravo');
    w.emit({ type: 'user_state_changed', oldState: 'listening', newState: 'speaking' });
    w.advance(5000);
    w.fake.currentSpeech = { id: 'speech_x', allowInterruptions: false };
    w.play('charlie delta');
    expect(w.monitor.violations).toEqual([]);
  });
});

describe('watchInvariants: one output per tool call (c)', () => {
  const call = (callId: string) => ({ type: 'function_call' as const, id: `i${callId}`, callId, name: 'f', arguments: '{}', createdAt: Date.now() });
  const output = (callId: string) => ({ type: 'function_call_output' as const, id: `o${callId}`, callId, name: 'f', output: 'x', isError: false, createdAt: Date.now() });

  it('flags a call without output once settled, a second output, and an output without call', () => {
    const w = world();
    w.fake.history.add(call('c1'));
    expect(w.monitor.check()).toEqual([]); // still running: fine
    expect(w.monitor.check({ settled: true }).map((v) => v.message)).toEqual(['function call c1 has no function_call_output']);
    w.fake.history.add(output('c1'));
    w.fake.history.add(output('c1'));
    w.fake.history.add(output('c9'));
    expect(w.monitor.check().map((v) => v.message)).toEqual(['function_call_output c9 (f) has no function_call before it', 'function call c1 has 2 outputs for 1 calls']);
  });

  it('accepts exactly one output per call', () => {
    const w = world();
    w.fake.history.add(call('c1'));
    w.fake.history.add(call('c2'));
    w.fake.history.add(output('c2'));
    w.fake.history.add(output('c1'));
    expect(w.monitor.check({ settled: true })).toEqual([]);
  });
});

describe('watchInvariants: nothing unheard in history (d)', () => {
  it('the rule: a word is heard once its middle has played, at its characters’ share of the audio', () => {
    const s = { text: 'alpha bravo charlie delta', producedMs: 1500, state: 'completed' as const };
    // 25 characters over 1500 ms: alpha's middle at 2.5/25 → 150 ms, bravo's at 8.5/25 → 510 ms.
    expect(heardWordCount(s, 149, 60)).toBe(0);
    expect(heardWordCount(s, 150, 60)).toBe(1);
    expect(heardWordCount(s, 509, 60)).toBe(1);
    expect(heardWordCount(s, 1500, 60)).toBe(4);
    // A synthesis that failed after 300 ms covered only the start of the text: its length is the whole text's (25 × 60 ms).
    expect(heardWordCount({ ...s, producedMs: 300, state: 'failed' }, 300, 60)).toBe(1);
  });

  const message = (text: string, interrupted = true) => ({ type: 'conversation_item_added' as const, item: createMessage('assistant', text, { interrupted }) });

  it('flags an interrupted message that keeps words not yet played', () => {
    const w = world();
    w.play('alpha bravo charlie delta'); // 1500 ms
    w.advance(400);
    w.out.clearBuffer();
    w.emit(message('alpha bravo charlie'));
    expect(w.monitor.violations.map((v) => v.message)).toEqual([expect.stringMatching(/keeps 3 words but only 1 were heard/)]);
  });

  it('flags text kept from a TTS stream that failed part-way', () => {
    const tts = new TracedTTS(new FaultyTTS(new FakeTTS([], { msPerChar: 60 }), () => ({ kind: 'error_mid', afterItems: 15 })), { msPerChar: 60 });
    const w = world({ tts });
    w.play('alpha bravo charlie delta'); // 15 frames: 300 ms of 1500
    w.advance(2000);
    w.emit(message('alpha bravo charlie delta'));
    expect(w.monitor.violations[0]!.message).toMatch(/keeps 4 words but only 1 were heard .*failed, 300 ms produced, 300 ms played/);
  });

  it('flags assistant text that never went to the TTS', () => {
    const w = world();
    w.emit(message('never said', false));
    expect(w.monitor.violations[0]!.message).toMatch(/matches no text sent to the TTS/);
  });

  it('accepts the heard prefix of an interrupted speech and a complete one', () => {
    const w = world();
    w.play('alpha bravo charlie delta');
    w.advance(600);
    w.out.clearBuffer();
    w.emit(message('alpha bravo'));
    w.play('echo foxtrot');
    w.advance(5000);
    w.emit(message('Echo, foxtrot!', false));
    expect(w.monitor.violations).toEqual([]);
  });
});

describe('watchInvariants: no lost user turn (e)', () => {
  it('flags a final transcript or typed input missing from the user messages once the commit delay has passed', () => {
    const w = world();
    w.emit({ type: 'user_input_transcribed', transcript: 'book a table', isFinal: true });
    w.monitor.expectUserMessage('for two');
    w.advance(1000);
    expect(w.monitor.check({ settled: true })).toEqual([]); // may still be committed
    w.advance(3100);
    expect(w.monitor.check({ settled: true }).map((v) => v.message)).toEqual([
      expect.stringMatching(/final transcript "book a table" .* never reached a user message/),
      expect.stringMatching(/typed input "for two" .* never reached/),
    ]);
  });

  it('accepts turns merged into one message, interim transcripts and empty finals', () => {
    const w = world();
    w.emit({ type: 'user_input_transcribed', transcript: 'book a', isFinal: false });
    w.emit({ type: 'user_input_transcribed', transcript: 'book a table', isFinal: true });
    w.emit({ type: 'user_input_transcribed', transcript: 'for two.', isFinal: true });
    w.emit({ type: 'user_input_transcribed', transcript: ' ', isFinal: true });
    w.fake.history.add(createMessage('user', 'Book a table for two'));
    w.advance(10_000);
    expect(w.monitor.check({ settled: true })).toEqual([]);
  });
});

describe('watchInvariants: states that tell the truth (f)', () => {
  const state = (oldState: 'listening' | 'thinking' | 'speaking', newState: 'listening' | 'thinking' | 'speaking') =>
    ({ type: 'agent_state_changed', oldState, newState }) as const;

  it("flags 'speaking' with nothing audible, and a paused output", () => {
    const w = world();
    w.emit(state('listening', 'speaking'));
    w.advance(20);
    w.monitor.check();
    expect(w.monitor.violations[0]!.message).toMatch(/'speaking' while nothing is audible \(no segment is playing\)/);
    const p = world();
    p.out.pause();
    p.play('alpha bravo');
    p.emit(state('thinking', 'speaking'));
    p.advance(300);
    p.out.resume();
    expect(p.monitor.violations[0]!.message).toMatch(/\(the output is paused\) for 300 ms/);
  });

  it("flags 'thinking' left over once everything settled", () => {
    const w = world();
    w.emit(state('listening', 'thinking'));
    expect(w.monitor.check()).toEqual([]);
    expect(w.monitor.check({ settled: true }).map((v) => v.invariant)).toEqual(['honest_states']);
  });

  it("accepts 'speaking' while audio plays and a state change in the moment playback ends", () => {
    const w = world();
    w.play('alpha bravo');
    w.emit(state('thinking', 'speaking'));
    w.advance(660); // 11 characters × 60 ms: the segment finishes now
    w.emit(state('speaking', 'listening'));
    w.advance(1000);
    expect(w.monitor.check({ settled: true })).toEqual([]);
  });
});

describe('watchInvariants: released on close (g)', () => {
  it('flags timers, actors, output listeners, playing audio and open resources left after close()', () => {
    const actors = trackActors();
    let open = 1;
    const w = world({ actors, timerCount: () => vi.getTimerCount(), resources: [{ name: 'LLM streams', live: () => open }] });
    const child = createActor(createMachine({ id: 'speech', initial: 'playing', states: { playing: {} } }), { inspect: actors.inspect }).start();
    const root = createActor(createMachine({ id: 'session' }), { inspect: actors.inspect }).start();
    setTimeout(() => undefined, 60_000);
    const sub = w.out.events$.subscribe();
    w.play('alpha bravo');
    w.fake.lifecycle = 'closed';
    expect(w.monitor.checkClosed().map((v) => v.message)).toEqual([
      '2 timer(s) still pending after close()', // ours and the playing segment's
      '1 actor(s) still active after close(): speech ["playing"]',
      'the session still listens to the audio output after close()',
      'audio is still playing after close()',
      '1 LLM streams still open after close()',
    ]);
    expect(() => w.monitor.assertClean()).toThrow(/5 invariant violation\(s\):\n\[released_on_close\]/);
    child.stop();
    root.stop();
    sub.unsubscribe();
    open = 0;
  });

  it('accepts a fully released session (its own root actor may stay alive)', () => {
    const actors = trackActors();
    const w = world({ actors, timerCount: () => vi.getTimerCount() });
    createActor(createMachine({ id: 'session' }), { inspect: actors.inspect }).start();
    const speech = createActor(createMachine({ id: 'speech' }), { inspect: actors.inspect }).start();
    w.play('alpha');
    vi.advanceTimersByTime(1000);
    speech.stop();
    w.fake.lifecycle = 'closed';
    expect(w.monitor.checkClosed()).toEqual([]);
    expect(actors.started).toBe(2);
    w.monitor.stop();
    expect(() => w.monitor.assertClean()).not.toThrow();
  });
});
