/**
 * What an emitted event of the protocol's machine means, in clinical words:
 * one wording for every place that shows a trace (the vignette of a
 * counterexample, `kapspec simulate`'s timeline, the terminal view's log).
 *
 * Words that call for action are in capitals (PAUSED, NO … FREE,
 * ESCALATED, STAFFING), so they stand out without colour; `tone` lets a
 * caller colour them too.
 */
import { showMinutes, showNumber } from './show.js';

/**
 * `stage`: a stage begins or ends; `action`: something the protocol did;
 * `rule`: a rule fired; `warn`: dosing paused or stopped; `alert`: someone
 * or something is missing, an escalation, a rejected input.
 */
export type Tone = 'stage' | 'action' | 'rule' | 'warn' | 'alert';

export interface Described {
  readonly text: string;
  readonly tone: Tone;
}

export interface DescribeOptions {
  /**
   * A group session: a stage's end is the group's, so it is not attributed
   * to the rule of the participant whose event ended it; a staffing line
   * counts the free pool, not who is present.
   */
  readonly group?: boolean;
}

/** A dose object (`{ value, unit }`) as text, `?` when it is not one. */
export function showDose(d: unknown): string {
  const x = d as { value?: unknown; unit?: unknown } | undefined;
  return x && typeof x.value === 'number' ? `${showNumber(x.value)} ${String(x.unit)}` : '?';
}

/** An emitted event (as a trace records it: `type` plus fields) in clinical words. */
export function describeEmitted(e: Readonly<Record<string, unknown>> & { readonly type: string }, options: DescribeOptions = {}): Described {
  const by = e['rule'] !== undefined ? ` (rule ${String(e['rule'])})` : '';
  const minutes = (v: unknown) => showMinutes(v as number);
  switch (e.type) {
    case 'rule':
      return { text: `rule ${String(e['rule'])} fired`, tone: 'rule' };
    case 'stage': {
      const s = String(e['stage']);
      switch (e['phase']) {
        case 'enter':
          return { text: `${s} begins`, tone: 'stage' };
        case 'exit':
          return { text: `${s} ends${options.group === true ? '' : by}`, tone: 'stage' };
        case 'pause':
          return { text: `${s} PAUSED${by}`, tone: 'warn' };
        case 'resume':
          return { text: `${s} resumed${by}`, tone: 'action' };
        case 'skip':
          return { text: `${s} skipped${by}`, tone: 'stage' };
        default:
          return { text: `${s} stopped${by}`, tone: 'warn' };
      }
    }
    case 'administer': {
      const drug = String(e['drug']);
      if (e['phase'] === 'start') {
        const deliv = e['delivery'] as { kind?: string; minutes?: number } | undefined;
        const how = deliv?.kind === 'over' ? `over ${showMinutes(deliv.minutes ?? 0)}` : 'once';
        return { text: `${drug} ${showDose(e['dose'])} ${String(e['route'])} ${how} started`, tone: 'action' };
      }
      const delivered = typeof e['delivered'] === 'number' ? showNumber(e['delivered']) : '?';
      const unit = (e['dose'] as { unit?: string } | undefined)?.unit ?? '';
      const verb = e['phase'] === 'stop' ? 'stopped' : e['phase'] === 'pause' ? 'paused' : 'resumed';
      return { text: `${drug} ${verb} at ${delivered} ${unit} delivered${by}`, tone: e['phase'] === 'resume' ? 'action' : 'warn' };
    }
    case 'give':
      return { text: `gave ${String(e['drug'])} ${showDose(e['dose'])}${e['route'] !== undefined ? ` ${String(e['route'])}` : ''}${by}`, tone: 'action' };
    case 'reduce':
      return { text: `${String(e['drug'])} reduced to ${showDose(e['to'])}${by}`, tone: 'action' };
    case 'notify':
      return { text: `notified ${String(e['role'])}${by}`, tone: 'action' };
    case 'attend': {
      const role = String(e['role']);
      if (e['continues'] === true) {
        const mins = typeof e['minutes'] === 'number' ? ` for another ${minutes(e['minutes'])}` : '';
        return { text: e['status'] === 'assigned' ? `the ${role} already with them stays on${mins}${by}` : `still waiting for a ${role}${by}`, tone: 'action' };
      }
      if (e['status'] === 'assigned') {
        const mins = typeof e['minutes'] === 'number' ? ` for ${minutes(e['minutes'])}` : '';
        return { text: `a ${role} attends${mins}${by}`, tone: 'action' };
      }
      const within = typeof e['within'] === 'number' ? ` (needed within ${minutes(e['within'])})` : '';
      return { text: `NO ${role} FREE to attend${within}${by}`, tone: 'alert' };
    }
    case 'escalate':
      return { text: `ESCALATED: ${String(e['level'])}${by}`, tone: 'alert' };
    case 'staffing.violation':
      if (e['kind'] === 'attend') return { text: `STAFFING: no ${String(e['role'])} was free in time${by}`, tone: 'alert' };
      return {
        // A group's staffing lines count the free pool (present and not attending anyone); an individual session's count who is present.
        text: `STAFFING: ${String(e['actual'])} ${String(e['role'])} ${options.group === true ? 'free' : 'present'}, ${String(e['op'] ?? '>=')} ${String(e['required'])} required${e['stage'] !== undefined ? ` in ${String(e['stage'])}` : ''}`,
        tone: 'alert',
      };
    case 'input.rejected':
      return { text: `input rejected: ${String(e['reason'])}`, tone: 'alert' };
    default:
      return { text: `${e.type}${by}`, tone: 'action' };
  }
}
