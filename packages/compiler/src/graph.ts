/**
 * A session as a picture: stages, paused states and outcomes as nodes, with
 * the reason for every move as an edge label (stage durations, gates, rule
 * names, the discharge condition). The Mermaid, DOT and XState JSON exporters
 * all draw this one graph, so they never disagree.
 */
import type * as I from '@kapspec/runtime';
import { showExpr, showMinutes } from '@kapspec/runtime';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: 'stage' | 'paused' | 'outcome';
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** The event that moves the machine (`after` for time, `rule:<id>` for rules). */
  readonly trigger: 'start' | 'after' | 'gate' | 'discharge' | 'rule' | 'resume';
}

export interface SessionGraph {
  readonly session: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly initial: string | undefined;
}


function durationLabel(d: I.StageDuration): string {
  if (d.exact !== undefined) return showMinutes(d.exact);
  const parts: string[] = [];
  if (d.atLeast !== undefined) parts.push(`at least ${showMinutes(d.atLeast)}`);
  if (d.atMost !== undefined) parts.push(`at most ${showMinutes(d.atMost)}`);
  return parts.join(', ');
}

/** Stages a rule applies in: those of a top-level `during`, else every stage. */
function ruleScope(rule: I.Rule, stages: readonly I.Stage[]): string[] {
  let e: I.Expr = rule.when;
  for (;;) {
    if (e.kind === 'during') return [...e.stages];
    if (e.kind === 'for') e = e.expr;
    else return stages.map((s) => s.name);
  }
}

export function sessionGraph(session: I.Session): SessionGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const outcomes = new Set<I.Outcome>();
  const stages = session.stages;
  const paused = new Set<string>();

  stages.forEach((st) => {
    const dur = durationLabel(st.duration);
    nodes.push({ id: st.name, label: dur ? `${st.name} (${dur})` : st.name, kind: 'stage' });
  });

  stages.forEach((st, i) => {
    const next = stages[i + 1];
    for (const g of st.gates) {
      const to = g.otherwise.kind === 'defer' ? 'deferred' : 'ended';
      outcomes.add(to);
      edges.push({ from: st.name, to, label: `gate fails: ${showExpr(g.expr)}`, trigger: 'gate' });
    }
    if (next) {
      const d = st.duration;
      const label =
        d.exact !== undefined ? `after ${showMinutes(d.exact)}` : d.atMost !== undefined ? `after at most ${showMinutes(d.atMost)}` : 'when the stage ends';
      edges.push({ from: st.name, to: next.name, label, trigger: 'after' });
    } else if (session.discharge) {
      outcomes.add('discharged');
      const min = st.duration.exact ?? st.duration.atLeast;
      const prefix = min !== undefined ? `after ${showMinutes(min)}, ` : '';
      edges.push({ from: st.name, to: 'discharged', label: `${prefix}discharge when ${showExpr(session.discharge.expr)}`, trigger: 'discharge' });
    }
  });

  for (const rule of session.rules) {
    const scope = ruleScope(rule, stages);
    for (const a of rule.actions) {
      if (a.kind === 'pause') {
        const id = `${a.stage}_paused`;
        if (!paused.has(a.stage)) {
          paused.add(a.stage);
          nodes.push({ id, label: `${a.stage} paused`, kind: 'paused' });
        }
        edges.push({ from: a.stage, to: id, label: `rule ${rule.id}`, trigger: 'rule' });
        const resume = rule.resume ? `resume when ${showExpr(rule.resume)}` : 'resume';
        edges.push({ from: id, to: a.stage, label: resume, trigger: 'resume' });
      } else if (a.kind === 'stop') {
        const at = stages.findIndex((s) => s.name === a.stage);
        const next = stages[at + 1];
        const from = [a.stage, ...(paused.has(a.stage) ? [`${a.stage}_paused`] : [])];
        for (const f of from) {
          if (next) edges.push({ from: f, to: next.name, label: `stop: rule ${rule.id}`, trigger: 'rule' });
        }
      } else if (a.kind === 'escalate' || a.kind === 'defer' || a.kind === 'endSession') {
        const to: I.Outcome = a.kind === 'escalate' ? 'escalated' : a.kind === 'defer' ? 'deferred' : 'ended';
        outcomes.add(to);
        for (const s of scope) edges.push({ from: s, to, label: `rule ${rule.id}`, trigger: 'rule' });
      }
    }
  }

  for (const o of ['discharged', 'deferred', 'ended', 'escalated'] as const) {
    if (outcomes.has(o)) nodes.push({ id: o, label: o, kind: 'outcome' });
  }
  // Edges that lead to the same place for the same reason are drawn once.
  const seen = new Set<string>();
  const unique = edges.filter((e) => {
    const key = `${e.from}>${e.to}>${e.label}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { session: session.name, nodes, edges: unique, initial: stages[0]?.name };
}
