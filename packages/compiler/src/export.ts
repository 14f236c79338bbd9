/**
 * Exporters: Mermaid and DOT state diagrams a clinician can read, and an
 * XState JSON config that Stately's visualizer accepts. All draw the graph of
 * `graph.ts`.
 */
import type { IR, Session } from '@kapspec/runtime';
import { sessionGraph, type SessionGraph } from './graph.js';

export type Target = 'ir' | 'mermaid' | 'dot' | 'xstate-json';
export const TARGETS: readonly Target[] = ['ir', 'mermaid', 'dot', 'xstate-json'];

/** The sessions to draw: one by name, or all of them. Undefined when the name is unknown. */
export function selectSessions(ir: IR, session?: string): readonly Session[] | undefined {
  if (session === undefined) return ir.sessions;
  const found = ir.sessions.find((s) => s.name === session);
  return found ? [found] : undefined;
}

function mermaidText(s: string): string {
  return s.replace(/[:;#"]/g, (c) => ({ ':': ' -', ';': ',', '#': 'no.', '"': "'" })[c] ?? c);
}

export function toMermaid(ir: IR, sessions: readonly Session[] = ir.sessions): string {
  // One diagram: a single session drawn flat, several as composite states.
  const nested = sessions.length > 1;
  const names = sessions.map((s) => s.name).join(', ');
  const out: string[] = ['---', `title: ${mermaidText(ir.protocol.title)} — ${nested ? 'sessions' : 'session'} ${names}`, '---', 'stateDiagram-v2'];
  for (const s of sessions) {
    const g = sessionGraph(s);
    const pad = nested ? '    ' : '  ';
    const id = (n: string): string => (nested ? `${s.name}__${n}` : n);
    if (nested) out.push(`  state "session ${mermaidText(s.name)}" as ${s.name} {`);
    for (const n of g.nodes) out.push(`${pad}state "${mermaidText(n.label)}" as ${id(n.id)}`);
    if (g.initial) out.push(`${pad}[*] --> ${id(g.initial)}`);
    for (const e of g.edges) out.push(`${pad}${id(e.from)} --> ${id(e.to)} : ${mermaidText(e.label)}`);
    for (const n of g.nodes) if (n.kind === 'outcome') out.push(`${pad}${id(n.id)} --> [*]`);
    if (nested) out.push('  }');
    for (const n of g.nodes) if (n.kind === 'outcome') out.push(`  class ${id(n.id)} outcome`);
  }
  out.push('  classDef outcome font-weight:bold', '');
  return out.join('\n');
}

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function toDot(ir: IR, sessions: readonly Session[] = ir.sessions): string {
  const out: string[] = [`digraph ${dotString(ir.protocol.title)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  for (const s of sessions) {
    const g = sessionGraph(s);
    const id = (n: string): string => dotString(`${s.name}.${n}`);
    out.push(`  subgraph ${dotString(`cluster_${s.name}`)} {`, `    label=${dotString(`session ${s.name}`)};`);
    out.push(`    ${id('start')} [shape=circle, label="", width=0.2, style=filled, fillcolor=black];`);
    for (const n of g.nodes) {
      const style = n.kind === 'outcome' ? ', shape=doubleoctagon, style=bold' : n.kind === 'paused' ? ', style="rounded,dashed"' : '';
      out.push(`    ${id(n.id)} [label=${dotString(n.label)}${style}];`);
    }
    if (g.initial) out.push(`    ${id('start')} -> ${id(g.initial)};`);
    for (const e of g.edges) out.push(`    ${id(e.from)} -> ${id(e.to)} [label=${dotString(e.label)}];`);
    out.push('  }');
  }
  out.push('}', '');
  return out.join('\n');
}

/** An XState v5 machine config (JSON) per session, for Stately's visualizer. */
export function toXStateJson(ir: IR, sessions: readonly Session[] = ir.sessions): string {
  const configs = sessions.map((s) => xstateConfig(s, sessionGraph(s)));
  return `${JSON.stringify(configs.length === 1 ? configs[0] : configs, null, 2)}\n`;
}

function xstateConfig(session: Session, g: SessionGraph): object {
  const states: Record<string, { type?: 'final'; description?: string; on?: Record<string, { target: string; description: string }[]>; after?: Record<string, { target: string; description: string }> }> = {};
  for (const n of g.nodes) {
    states[n.id] = n.kind === 'outcome' ? { type: 'final', description: n.label } : { description: n.label };
  }
  const stageByName = new Map(session.stages.map((s) => [s.name, s]));
  for (const e of g.edges) {
    const state = states[e.from];
    if (!state) continue;
    if (e.trigger === 'after') {
      const d = stageByName.get(e.from)?.duration;
      const minutes = d?.exact ?? d?.atMost;
      if (minutes !== undefined) {
        state.after = { ...state.after, [String(Math.round(minutes * 60_000))]: { target: e.to, description: e.label } };
        continue;
      }
    }
    const event = e.trigger === 'rule' ? e.label.replace(/^stop: /, '').replace(/ /g, '.') : e.trigger;
    state.on = { ...state.on, [event]: [...(state.on?.[event] ?? []), { target: e.to, description: e.label }] };
  }
  return { id: session.name, initial: g.initial, states };
}
