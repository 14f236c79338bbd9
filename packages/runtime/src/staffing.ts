/**
 * What a staffing line asks for, shared by the machine (which emits
 * `staffing.violation`) and by the simulator's built-in staffing property
 * (which checks the same lines over a trace), so the two never disagree.
 */
import { compareValues } from './eval.js';
import type { CompareOp, StaffLine } from './ir.js';

/** `count`, scaled by `per N participants` (rounded up) over the participants still in session. */
export function staffRequired(line: StaffLine, participants: number): number {
  return line.count * (line.perParticipants ? Math.ceil(participants / line.perParticipants) : 1);
}

/** `actual <op> required`, as the line writes it (the comparison conditions use). */
export function staffCompare(actual: number, op: CompareOp, required: number): boolean {
  return compareValues(op, actual, required) === true;
}
