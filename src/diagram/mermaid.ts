/**
 * Statechart → Mermaid `stateDiagram-v2`, generated from a machine's definition (its StateNode tree), so the
 * diagrams in `visualizations/` can never drift from the code. Output is deterministic for clean diffs.
 */
import type { AnyStateMachine } from 'xstate';

interface Node {
  key: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  states: Record<string, Node>;
  initial?: { target: Node[] };
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  invoke: Array<{ src: unknown; id: string }>;
  tags: string[] | Set<string>;
  description?: string;
}

interface Transition {
  eventType: string;
  target?: Node[];
  guard?: unknown;
  actions: unknown[];
  reenter?: boolean;
}

/**
 * Mermaid ids must be [A-Za-z0-9_]. State keys keep their letters and digits; every other character (the
 * underscore too) becomes `_x` + 4 hex digits, and path segments are joined by `__`. Read left to right, `_x`
 * starts an escape and `__` a new segment, so distinct paths never share an id (`net-work` ≠ `net_work`). The
 * machine itself is `machine_root`, which no state path can produce (they all start with `s_`).
 */
const escapeKey = (key: string) => key.replace(/[^A-Za-z0-9]/g, (c) => '_x' + c.charCodeAt(0).toString(16).padStart(4, '0'));
const idOf = (n: Node) => (n.path.length ? 's_' + n.path.map(escapeKey).join('__') : 'machine_root');

/** Named guards keep their names; `and`/`or`/`not`/`stateIn` are spelled out. */
export function guardLabel(g: unknown): string {
  if (!g) return '';
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && g && 'type' in g) return String((g as { type: string }).type);
  if (typeof g === 'function') {
    const f = g as { name: string; guards?: unknown[]; stateValue?: unknown };
    if (f.guards) {
      const parts = f.guards.map((x) => {
        const l = guardLabel(x);
        const binary = typeof x === 'function' && (x.name === 'and' || x.name === 'or');
        return binary ? `(${l})` : l;
      });
      if (f.name === 'not') return `!${parts[0]}`;
      return parts.join(f.name === 'or' ? ' || ' : ' && ');
    }
    if (f.stateValue !== undefined) return `in ${typeof f.stateValue === 'string' ? f.stateValue : JSON.stringify(f.stateValue)}`;
    return f.name || 'guard';
  }
  return 'guard';
}

/** Named actions only: inline `assign`s and other built-ins are implementation detail. */
export function actionLabels(actions: unknown[]): string[] {
  return actions
    .map((a) => (typeof a === 'string' ? a : typeof a === 'object' && a && 'type' in a ? String((a as { type: string }).type) : ''))
    .filter((n) => n && !n.startsWith('xstate.'));
}

function eventLabel(eventType: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return /^\d+$/.test(after[1]!) ? `after ${after[1]}ms` : `after ${after[1]}`;
  if (eventType.startsWith('xstate.done.actor.')) return 'done';
  if (eventType.startsWith('xstate.error.actor.')) return 'error';
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  return eventType;
}

function edgeLabel(t: Transition, event: string): string {
  const guard = guardLabel(t.guard);
  const actions = actionLabels(t.actions);
  let label = event;
  if (guard) label += ` [${guard}]`;
  if (actions.length) label += ` / ${actions.join(', ')}`;
  // Mermaid treats ':' and ';' specially in labels.
  return label.replace(/[:;]/g, ' ').replace(/"/g, "'");
}

/** The states to draw an edge from: a transition on a compound/parallel node starts at its border. */
function lines(node: Node, indent: string, out: string[]): void {
  const children = Object.values(node.states);
  if (node.type === 'parallel') {
    children.forEach((child, i) => {
      if (i > 0) out.push(`${indent}--`);
      declare(child, indent, out);
    });
    return;
  }
  if (node.initial?.target[0]) out.push(`${indent}[*] --> ${idOf(node.initial.target[0])}`);
  for (const child of children) declare(child, indent, out);
}

function declare(node: Node, indent: string, out: string[]): void {
  const id = idOf(node);
  if (Object.keys(node.states).length) {
    out.push(`${indent}state "${node.key}" as ${id} {`);
    lines(node, indent + '  ', out);
    out.push(`${indent}}`);
  } else {
    out.push(`${indent}state "${node.key}" as ${id}`);
  }
  if (node.type === 'final') out.push(`${indent}${id} --> [*]`);
}

function edges(node: Node, out: string[], rootId: string, anyState: string[], forks: { count: number; decl: string[] }): void {
  const from = idOf(node);
  const emit = (t: Transition, event: string) => {
    if (!t.target?.length && !actionLabels(t.actions).length && !guardLabel(t.guard)) return;
    if (from === rootId) {
      // Mermaid has no edges from the diagram itself: targetless root transitions become a note, targeted ones
      // start from every top-level state that can still take events.
      if (!t.target?.length) return void anyState.push(edgeLabel(t, event));
      const sources = Object.values(node.states).filter((c) => c.type !== 'final');
      for (const target of t.target) for (const s of sources) out.push(`  ${idOf(s)} --> ${idOf(target)} : ${edgeLabel(t, event)}`);
      return;
    }
    if ((t.target?.length ?? 0) > 1) {
      // One transition entering several regions is drawn as one: a labelled edge into a fork, then one edge per target.
      const fork = `${from}_fork${forks.count++}`;
      forks.decl.push(`  state ${fork} <<fork>>`);
      out.push(`  ${from} --> ${fork} : ${edgeLabel(t, event)}`);
      for (const target of t.target!) out.push(`  ${fork} --> ${idOf(target)}`);
      return;
    }
    // A targetless transition runs its actions and stays: a self-loop.
    for (const target of t.target?.length ? t.target : [node]) out.push(`  ${from} --> ${idOf(target)} : ${edgeLabel(t, event)}`);
  };
  for (const [eventType, ts] of [...node.transitions.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const t of ts) emit(t, eventLabel(eventType));
  }
  for (const t of node.always ?? []) emit(t, 'always');
  for (const child of Object.values(node.states)) edges(child, out, rootId, anyState, forks);
}

function notes(node: Node, out: string[]): void {
  const items: string[] = [];
  for (const inv of node.invoke) items.push(`invoke ${typeof inv.src === 'string' ? inv.src : inv.id}`);
  const tags = [...node.tags].sort();
  if (tags.length) items.push(`tags ${tags.join(', ')}`);
  if (items.length && node.path.length) {
    out.push(`  note right of ${idOf(node)}`);
    for (const i of items) out.push(`    ${i}`);
    out.push('  end note');
  }
  for (const child of Object.values(node.states)) notes(child, out);
}

export function toMermaid(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const out = ['stateDiagram-v2', `  %% ${machine.id} — generated from machines/ by \`npm run visualize\`; do not edit`];
  const rootId = idOf(root);
  if (root.type === 'parallel') {
    // `--` region separators are only legal inside a composite state.
    out.push(`  state "${machine.id}" as ${rootId} {`);
    lines(root, '    ', out);
    out.push('  }');
  } else {
    lines(root, '  ', out);
  }
  const anyState: string[] = [];
  const forks = { count: 0, decl: [] as string[] };
  const edgeLines: string[] = [];
  edges(root, edgeLines, rootId, anyState, forks);
  out.push(...forks.decl, ...edgeLines);
  notes(root, out);
  const first = root.initial?.target[0] ?? Object.values(root.states)[0];
  if (anyState.length && first) {
    out.push(`  note left of ${idOf(first)}`);
    out.push('    in any state:');
    for (const l of anyState) out.push(`    ${l}`);
    out.push('  end note');
  }
  return out.join('\n') + '\n';
}
