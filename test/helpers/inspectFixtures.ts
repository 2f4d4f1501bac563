import { Subject, interval, map, take } from 'rxjs';
import { assign, createActor, fromObservable, setup } from 'xstate';

/** A parent whose context holds RxJS objects and a cycle, with an observable child whose events carry audio. */
export function makeObservableFixture() {
  type Frame = { pcm: Int16Array; n: number };
  const audio = new Subject<Frame>();
  const cyclic: { name: string; self?: unknown } = { name: 'loop' };
  cyclic.self = cyclic;
  const machine = setup({
    types: { context: {} as { stream: Subject<Frame>; cyclic: unknown; frames: number }, events: {} as { type: 'STOP' } },
    actors: { frames: fromObservable(() => audio.pipe(take(3))) },
    delays: { grace: 100 },
  }).createMachine({
    id: 'recorder',
    context: { stream: audio, cyclic, frames: 0 },
    initial: 'listening',
    on: { STOP: '.stopped' },
    states: {
      listening: {
        invoke: {
          src: 'frames',
          id: 'mic',
          onSnapshot: { actions: assign({ frames: ({ context }) => context.frames + 1 }) },
          onDone: 'draining',
        },
      },
      draining: { after: { grace: 'stopped' } },
      stopped: { type: 'final' },
    },
  });
  const push = (n: number) => audio.next({ pcm: new Int16Array(480), n });
  return { machine, push };
}

export const parseLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, any>);

