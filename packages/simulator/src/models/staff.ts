/**
 * Staff model: who is on duty at the start, and staff called away and
 * returning. Each person present leaves as a Poisson process
 * (`leaveRatePerHour`) and comes back after an exponential absence
 * (`absenceMeanMinutes`). Off by default in the calibrated model
 * (STAFF.leaveRatePerHour = 0): no source gives these rates.
 */
import type { IR } from '@kapspec/runtime';
import type { Rng, Scenario } from '../model.js';
import { exponential } from '../rng.js';
import { STAFF } from './parameters.js';

/** The declared minimum of each role, scaled for `per N participants` roles (⌈participants / N⌉ × min). */
export function staffRoster(ir: IR, participants: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of ir.roles) {
    out[r.name] = r.perParticipants !== undefined ? Math.ceil(participants / r.perParticipants) * r.min : r.min;
  }
  return out;
}

export interface StaffOptions {
  readonly leaveRatePerHour?: number;
  readonly absenceMeanMinutes?: number;
  /** Session minutes over which absences are drawn. */
  readonly horizon: number;
}

export function staffAbsences(rng: Rng, roster: Readonly<Record<string, number>>, options: StaffOptions): Scenario['staff'] {
  const rate = options.leaveRatePerHour ?? STAFF.leaveRatePerHour.value;
  const mean = options.absenceMeanMinutes ?? STAFF.absenceMeanMinutes.value;
  if (!(rate > 0)) return [];
  const out: { t: number; action: 'arrive' | 'leave'; role: string }[] = [];
  for (const [role, count] of Object.entries(roster)) {
    for (let i = 0; i < count; i++) {
      const r = rng.fork(`staff:${role}:${i}`);
      let t = 0;
      for (;;) {
        t += exponential(r, rate / 60);
        if (t >= options.horizon) break;
        out.push({ t, action: 'leave', role });
        t += exponential(r, 1 / mean);
        if (t >= options.horizon) break;
        out.push({ t, action: 'arrive', role });
      }
    }
  }
  out.sort((a, b) => a.t - b.t || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0) || (a.action < b.action ? -1 : 1));
  return out;
}
