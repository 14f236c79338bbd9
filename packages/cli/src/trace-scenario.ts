/**
 * A `Scenario` rebuilt from a saved trace, for `kapspec replay`: the trace's
 * inputs are fed to the protocol's machine again.
 *
 * - Participants: the header's profiles, in the header's order.
 * - Events and staff changes: the trace's `event` and `staff` records (the
 *   driver records every input it sends, and only those).
 * - Staff on duty at the start, the model's name and parameters, the seed:
 *   the header's.
 * - Physiology: `truth(t, …)` plays back the participant's `truth` records
 *   and `measure(…)` the `observe` records, in order. The driver asks for the
 *   truth once per instant and again when what was delivered changes (an
 *   administration at that instant); it records a truth sample whenever the
 *   value changes, so a new instant takes the next sample recorded at that
 *   time, and a change of exposure within an instant takes the next sample of
 *   the same instant if there is one. Readings are taken record by record,
 *   measure by measure.
 * - Time: the horizon is the time of an `end` record with reason `horizon`;
 *   the resolution is the header's numeric parameter `resolution`, if any.
 *
 * If the machine behaves as it did when the trace was made, the re-run
 * trace is byte-identical to the saved one; `firstDifference` finds where it
 * is not (the playback then falls back on the nearest recorded values).
 */
import type { Exposure, Physiology, Scenario, Trace, TraceRecord } from '@kapspec/simulator';

export interface ReplayPlan {
  readonly scenario: Scenario;
  readonly participantIds: readonly string[];
  readonly horizonMinutes?: number;
  readonly resolutionMinutes?: number;
  /**
   * The trace has no `end` record: it was cut short (by hand, or a run that
   * stopped). The re-run then stops at `t`, the time of its last record (the
   * horizon), and is checked without its own `end` record, so what the saved
   * part cannot decide is inconclusive.
   */
  readonly incomplete?: { readonly t: number };
}

type Values = Readonly<Record<string, number>>;

class PlaybackPhysiology implements Physiology {
  private next = 0;
  private current: Values;
  private currentT = Number.NaN;
  private exposureKey = '';
  private reading = 0;
  private taken = new Set<string>();

  constructor(
    private readonly truths: readonly { t: number; values: Values }[],
    private readonly readings: readonly { t: number; values: Values }[],
    baseline: Values,
  ) {
    this.current = truths[0]?.values ?? baseline;
  }

  truth(t: number, exposure: Exposure): Values {
    const key = JSON.stringify(exposure.doses);
    if (t !== this.currentT) {
      this.currentT = t;
      this.exposureKey = key;
      while (this.next < this.truths.length && this.truths[this.next]!.t < t) this.current = this.truths[this.next++]!.values;
      if (this.next < this.truths.length && this.truths[this.next]!.t === t) this.current = this.truths[this.next++]!.values;
      return this.current;
    }
    if (key !== this.exposureKey) {
      this.exposureKey = key;
      if (this.next < this.truths.length && this.truths[this.next]!.t === t) this.current = this.truths[this.next++]!.values;
    }
    return this.current;
  }

  measure(measure: string, value: number, t: number): number {
    // Move on once the current reading's measures have all been taken, or when this one was.
    for (;;) {
      const r = this.readings[this.reading];
      if (r === undefined) return value;
      const keys = Object.keys(r.values);
      if (this.taken.has(measure) || keys.every((k) => this.taken.has(k))) {
        this.reading++;
        this.taken = new Set();
        continue;
      }
      if (r.t !== t || !(measure in r.values)) return value;
      this.taken.add(measure);
      return r.values[measure]!;
    }
  }
}

/** The scenario, participants and time options that re-run `trace`. */
export function replayPlan(trace: Trace): ReplayPlan {
  const { header, records } = trace;
  const ids = header.participants.map((p) => p.id);
  const solo = ids.length === 1 ? ids[0] : undefined;
  const mine = (r: { participant?: string }, id: string) => (r.participant ?? solo) === id;
  const participants = header.participants.map((profile) => {
    const truths: { t: number; values: Values }[] = [];
    const readings: { t: number; values: Values }[] = [];
    const events: { t: number; name: string }[] = [];
    for (const r of records) {
      if (r.type === 'truth' && r.participant === profile.id) truths.push(r);
      else if (r.type === 'observe' && mine(r, profile.id)) readings.push(r);
      else if (r.type === 'event' && mine(r, profile.id)) events.push({ t: r.t, name: r.name });
    }
    return { profile, physiology: new PlaybackPhysiology(truths, readings, profile.baseline), events };
  });
  const staff = records.flatMap((r) => (r.type === 'staff' ? [{ t: r.t, action: r.action, role: r.role }] : []));
  const end = records.find((r): r is Extract<TraceRecord, { type: 'end' }> => r.type === 'end');
  const last = records.length > 0 ? records[records.length - 1]!.t : 0;
  const resolution = header.parameters['resolution'];
  return {
    scenario: { participants, staff, staffAtStart: header.staff, parameters: header.parameters, model: header.model },
    participantIds: ids,
    ...(end === undefined ? { horizonMinutes: last, incomplete: { t: last } } : end.reason === 'horizon' ? { horizonMinutes: end.t } : {}),
    ...(typeof resolution === 'number' && resolution > 0 ? { resolutionMinutes: resolution } : {}),
  };
}

/** `text` (a serialized trace) without its last line when that is the `end` record. */
export function withoutEnd(text: string): string {
  const from = text.lastIndexOf('\n', text.length - 2) + 1;
  return text.slice(from).includes('"type":"end"') ? text.slice(0, from) : text;
}

/** The first line (1-based) where two JSONL texts differ, with both lines; undefined when equal. */
export function firstDifference(a: string, b: string): { line: number; saved: string | undefined; rerun: string | undefined } | undefined {
  if (a === b) return undefined;
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return { line: i + 1, saved: la[i], rerun: lb[i] };
  }
  return { line: 1, saved: la[0], rerun: lb[0] };
}
