/**
 * Checks of the Mermaid diagrams beyond "the committed file is current" (test/diagrams.test.ts): every diagram of
 * `machines` is well-formed and complete against its machine, and the generator's less common paths (invokes,
 * done/error edges, parallel roots, ordering) behave.
 */
import type { AnyStateMachine } from 'xstate';
import { fromPromise, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { machines } from '../machines/index.ts';
import { toMermaid } from '../src/diagram/mermaid.ts';

interface StateNodeLike {
  key: string;
  path: string[];
  type: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, Array<{ target?: StateNodeLike[] }>>;
  always?: Array<{ target?: StateNodeLike[] }>;
}

/** The id scheme the diagrams promise: `s_` + the state path joined by `__`, non-alphanumerics escaped as `_xHHHH`. */
const expectedId = (n: StateNodeLike) =>
  n.path.length ? 's_' + n.path.map((k) => k.replace(/[^A-Za-z0-9]/g, (c) => '_x' + c.charCodeAt(0).toString(16).padStart(4, '0'))).join('__') : 'machine_root';

function allNodes(root: StateNodeLike): StateNodeLike[] {
  const out: StateNodeLike[] = [];
  const walk = (n: StateNodeLike) => {
    out.push(n);
    for (const c of Object.values(n.states)) walk(c);
  };
  walk(root);
  return out;
}

/** Parses the subset of stateDiagram-v2 the generator writes; throws on anything malformed. */
function parseDiagram(text: string) {
  const lines = text.split('\n');
  if (lines[0] !== 'stateDiagram-v2') throw new Error('first line must be stateDiagram-v2');
  const declared = new Map<string, number>();
  const edges: Array<{ from: string; to: string; label: string }> = [];
  const noted: string[] = [];
  const stack: string[] = [];
  let inNote = false;
  for (const [i, raw] of lines.slice(1).entries()) {
    const line = raw.trim();
    const where = `line ${i + 2}: ${raw}`;
    if (inNote) {
      if (line === 'end note') inNote = false;
      continue;
    }
    if (line === '' || line.startsWith('%%')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^state "([^"]+)" as (\w+)( \{)?$/.exec(line))) {
      declared.set(m[2]!, (declared.get(m[2]!) ?? 0) + 1);
      if (m[3]) stack.push(m[2]!);
    } else if (line === '}') {
      if (!stack.pop()) throw new Error(`unbalanced } at ${where}`);
    } else if (line === '--') {
      if (!stack.length) throw new Error(`region separator outside a composite at ${where}`);
    } else if ((m = /^(\[\*\]|\w+) --> (\[\*\]|\w+)(?: : (.+))?$/.exec(line))) {
      const label = m[3] ?? '';
      // ':' and ';' end a Mermaid label early; quotes break it.
      if (/[:;"]/.test(label)) throw new Error(`label with a Mermaid metacharacter at ${where}`);
      edges.push({ from: m[1]!, to: m[2]!, label });
    } else if ((m = /^note (?:left|right) of (\w+)$/.exec(line))) {
      noted.push(m[1]!);
      inNote = true;
    } else {
      throw new Error(`unrecognised ${where}`);
    }
  }
  if (stack.length) throw new Error(`unclosed composite ${stack.at(-1)}`);
  if (inNote) throw new Error('unclosed note');
  return { declared, edges, noted };
}

describe('every diagram of machines/ is well-formed and complete', () => {
  const entries = Object.entries(machines);
  it('there is at least one machine to draw', () => expect(entries.length).toBeGreaterThan(0));

  for (const [name, machine] of entries) {
    it(`${name}: parses, declares each state once, and every edge and note names a declared state`, () => {
      const { declared, edges, noted } = parseDiagram(toMermaid(machine));
      for (const [id, count] of declared) expect(count, `${id} declared ${count} times`).toBe(1);
      for (const e of edges) {
        if (e.from !== '[*]') expect(declared.has(e.from), `edge from undeclared ${e.from}`).toBe(true);
        if (e.to !== '[*]') expect(declared.has(e.to), `edge to undeclared ${e.to}`).toBe(true);
      }
      for (const id of noted) expect(declared.has(id), `note on undeclared ${id}`).toBe(true);
    });

    it(`${name}: draws every state and every targeted transition of the machine`, () => {
      const root = (machine as AnyStateMachine).root as unknown as StateNodeLike;
      const { declared, edges } = parseDiagram(toMermaid(machine));
      const nodes = allNodes(root);
      for (const n of nodes.slice(1)) expect(declared.has(expectedId(n)), `state ${n.path.join('.')} missing`).toBe(true);
      const pairs = new Set(edges.map((e) => `${e.from}->${e.to}`));
      for (const n of nodes) {
        const transitions = [...[...n.transitions.values()].flat(), ...(n.always ?? [])];
        for (const t of transitions) {
          for (const target of t.target ?? []) {
            // Root transitions are fanned out from each top-level state, so any edge into the target counts.
            const drawn =
              n === root
                ? edges.some((e) => e.to === expectedId(target))
                : pairs.has(`${expectedId(n)}->${expectedId(target)}`);
            expect(drawn, `${n.path.join('.') || '(root)'} → ${target.path.join('.')} not drawn`).toBe(true);
          }
        }
      }
    });
  }
});

describe('toMermaid beyond the basic fixture', () => {
  const build = (order: 'ab' | 'ba') =>
    setup({
      actors: { fetchReply: fromPromise(async () => 'ok') },
      guards: { accepted: () => true },
      actions: { 'log:reset': () => {}, tick: () => {} },
    }).createMachine({
      id: 'pipeline',
      type: 'parallel',
      on: { RESET: { actions: 'log:reset' } },
      states: {
        net: {
          initial: 'loading',
          onDone: '#pipeline.ui.closed',
          states: {
            loading: {
              tags: ['busy', 'alpha'],
              invoke: { src: 'fetchReply', id: 'fetch', onDone: { target: 'ready', guard: 'accepted' }, onError: 'failed' },
            },
            ready: { on: order === 'ab' ? { A: { actions: 'tick' }, B: 'loading' } : { B: 'loading', A: { actions: 'tick' } } },
            failed: { type: 'final' },
          },
        },
        ui: { initial: 'open', states: { open: {}, closed: {} } },
      },
    });
  const text = toMermaid(build('ab'));

  it('wraps a parallel root in a composite so its regions can be separated', () => {
    expect(text).toMatch(/^ {2}state "pipeline" as machine_root \{\n {4}state "net" as s_net \{/m);
    expect(text).toMatch(/\n {4}--\n {4}state "ui" as s_ui \{/);
  });

  it('labels invoke outcomes done / error, with the guard, and notes the invoke and sorted tags', () => {
    expect(text).toContain('s_net__loading --> s_net__ready : done [accepted]');
    expect(text).toContain('s_net__loading --> s_net__failed : error');
    expect(text).toMatch(/note right of s_net__loading\n\s+invoke fetchReply\n\s+tags alpha, busy\n\s+end note/);
  });

  it('draws a region finishing (done.state) and a targetless transition as a self-loop', () => {
    expect(text).toContain('s_net --> s_ui__closed : done');
    expect(text).toContain('s_net__ready --> s_net__ready : A / tick');
  });

  it('keeps Mermaid metacharacters out of labels and notes root actions under "in any state"', () => {
    expect(text).toMatch(/note left of s_net\n\s+in any state:\n\s+RESET \/ log reset\n/);
    expect(() => parseDiagram(text)).not.toThrow();
  });

  it('gives states whose names differ only in punctuation, or a state named "root", ids of their own', () => {
    const m = setup({}).createMachine({
      id: 'ids',
      type: 'parallel',
      states: {
        root: { initial: 'a_', states: { a_: { on: { GO: 'a-' } }, 'a-': {}, a: { initial: '_b', states: { _b: {} } } } },
        'net-work': {},
        net_work: { initial: 'x', states: { x: { on: { GO: '#ids.net-work' } } } },
      },
    });
    const diagram = toMermaid(m);
    const ids = [...diagram.matchAll(/state "[^"]*" as (\S+)/g)].map((x) => x[1]!);
    expect(ids).toHaveLength(9); // the machine and its 8 states
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('s_net_x002dwork');
    expect(ids).toContain('s_root__a_x005f');
    expect(diagram).toContain('s_net_x005fwork__x --> s_net_x002dwork : GO');
    expect(() => parseDiagram(diagram)).not.toThrow();
  });

  it('is deterministic: the same text twice, whatever the order of the `on` keys', () => {
    expect(toMermaid(build('ab'))).toBe(text);
    expect(toMermaid(build('ba'))).toBe(text);
  });
});
