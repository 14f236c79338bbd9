/**
 * The snippets of docs/embedding.md, verbatim (keep them in step), type-checked
 * by `tsc -p tsconfig.check.json` and run here. Imports only `@kapspec/runtime`
 * and `xstate`, like an app.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createActor, SimulatedClock, type Actor } from 'xstate';
import {
  createProtocolMachine,
  IRError,
  loadIR,
  nextDeadline,
  sessionState,
  validateEvent,
  type IR,
  type ProtocolEmitted,
  type ProtocolInEvent,
  type ProtocolMachine,
  type SessionOutput,
} from '@kapspec/runtime';
import { describe, expect, it } from 'vitest';

// ── §1 ──
function startSession(path: string) {
  let ir;
  try {
    ir = loadIR(readFileSync(path, 'utf8')); // JSON text or an already parsed object
  } catch (e) {
    if (e instanceof IRError) {
      // e.code: 'invalid-json' | 'not-ir' | 'newer-version' | 'unsupported-version'
      //         | 'invalid' | 'unknown-name' | 'duplicate-name'
      // e.path: where, as a JSON path, e.g. "$.sessions[2].stages[1].duration.exact"
      throw new Error(`cannot use ${path}: ${e.message}`);
    }
    throw e;
  }
  const machine = createProtocolMachine(ir, {
    session: 'dosing', // may be left out when the protocol has one session
    participant: { age: 54, weightKg: 72, flags: ['hypertension_history'], baseline: { sbp: 132, dbp: 84 } },
    staff: { therapist: 1, medical_provider: 1 }, // present at the start; default: each role's minimum
  });
  // No `clock` option: the actor uses the real clock (setTimeout and Date.now()).
  return { ir, machine, actor: createActor(machine) };
}

// ── §2 ──
/** Readings from the ward's devices, by measure name. */
interface Devices {
  read(measures: readonly string[]): Promise<Record<string, number>>;
  stream(measure: string, onReading: (value: number) => void): () => void;
}

function answerRequests(actor: Actor<ProtocolMachine>, devices: Devices) {
  const streams = new Map<string, () => void>();
  actor.on('measure.request', async (e) => {
    // e.measures: string[]; e.stage; e.at (session minutes); e.span (the monitor line)
    if (e.continuous) {
      // `monitor … continuously`: stream readings for as long as the stage lasts.
      for (const m of e.measures) {
        if (streams.has(m)) continue;
        streams.set(m, devices.stream(m, (value) => actor.send({ type: 'measure', values: { [m]: value } })));
      }
      return;
    }
    const values = await devices.read(e.measures);
    actor.send({ type: 'measure', values });
  });
  actor.on('stage', (e) => {
    if (e.phase !== 'exit') return;
    for (const stop of streams.values()) stop();
    streams.clear();
  });
}

// ── §3 ──
interface Ward {
  page(role: string, message: string): void;
  pump(command: 'start' | 'pause' | 'resume' | 'stop', drug: string): void;
  log(line: string): void;
}

function actOnProtocol(actor: Actor<ProtocolMachine>, ward: Ward) {
  actor.on('notify', (e) => ward.page(e.role, `rule ${e.rule} (line ${e.span.line})`));
  actor.on('attend', (e) =>
    ward.page(e.role, e.status === 'assigned' ? `attend for ${e.minutes ?? '?'} min (${e.rule})` : `needed within ${e.within ?? 0} min (${e.rule})`),
  );
  actor.on('give', (e) => ward.log(`give ${e.drug} ${e.dose.value} ${e.dose.unit}${e.route ? ` ${e.route}` : ''} (${e.rule})`));
  actor.on('administer', (e) => {
    if (e.delivery.kind === 'over') ward.pump(e.phase, e.drug);
    ward.log(`${e.phase} ${e.drug}: ${e.delivered} ${e.dose.unit} delivered so far`);
  });
  actor.on('escalate', (e) => ward.page('medical_provider', `ESCALATE ${e.level} (${e.rule})`));
  actor.on('staffing.violation', (e) => ward.log(`staffing: ${e.role} ${e.actual}/${e.required} in ${e.stage}`));
  actor.on('*', (e) => ward.log(JSON.stringify(e))); // everything, for the audit trail
}

function reportToProtocol(actor: Actor<ProtocolMachine>) {
  actor.send({ type: 'event', name: 'nausea' }); // one of the protocol's `events { … }`
  actor.send({ type: 'staff.leave', role: 'therapist' });
  actor.send({ type: 'staff.arrive', role: 'therapist' });
}

function whenDone(actor: Actor<ProtocolMachine>, onDone: (o: SessionOutput) => void) {
  actor.subscribe((snapshot) => {
    if (snapshot.status === 'done') onDone(snapshot.output!);
  });
}

// ── §4 ──
function sendChecked(ir: IR, actor: Actor<ProtocolMachine>, event: ProtocolInEvent): string | null {
  const check = validateEvent(ir, event);
  if (!check.ok) return check.error.message; // e.g. "sbp 300 mmHg is outside the possible range 50..260 mmHg"
  actor.send(event);
  return null;
}

function watchRejections(actor: Actor<ProtocolMachine>, report: (message: string) => void) {
  actor.on('input.rejected', (e) => report(`${e.code}: ${e.reason} (${JSON.stringify(e.event)})`));
}

// ── §5 ──
function persistEveryChange(actor: Actor<ProtocolMachine>, save: (json: string) => void) {
  actor.subscribe(() => save(JSON.stringify(actor.getPersistedSnapshot())));
}

function restore(machine: ProtocolMachine, saved: string) {
  const actor = createActor(machine, { snapshot: JSON.parse(saved) });
  actor.start(); // the timer is re-armed for the next deadline
  return actor;
}

// ── §6 ──
function runOnSimulatedClock(ir: IR) {
  const clock = new SimulatedClock();
  const actor = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock });
  actor.on('measure.request', (e) => {
    const normal: Record<string, number> = { sbp: 124, dbp: 78, hr: 72, spo2: 97, cadss: 2 };
    actor.send({ type: 'measure', values: Object.fromEntries(e.measures.map((m) => [m, normal[m]!])) });
  });
  actor.start();
  // Step a minute at a time (or to each next deadline), never a long jump
  // at once: SimulatedClock fires what is due, and timers armed during that
  // flush would start from the new time.
  for (let minute = 0; minute < 240 && actor.getSnapshot().status === 'active'; minute++) clock.increment(60_000);
  return actor.getSnapshot().output; // { outcome: 'discharged', at: 120, … }
}

function runToEachDeadline(ir: IR) {
  const clock = new SimulatedClock();
  const actor = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock });
  actor.on('measure.request', (e) => {
    const normal: Record<string, number> = { sbp: 124, dbp: 78, hr: 72, spo2: 97, cadss: 2 };
    actor.send({ type: 'measure', values: Object.fromEntries(e.measures.map((m) => [m, normal[m]!])) });
  });
  actor.start();
  // nextDeadline: the clock reading (ms) of the machine's next timer, or undefined.
  for (let due = nextDeadline(actor.getSnapshot()); due !== undefined; due = nextDeadline(actor.getSnapshot())) {
    clock.set(Math.max(due, clock.now()));
  }
  // sessionState: stage, rules holding it paused, staff present and free, doses, outcome.
  const { stage, dose, outcome } = sessionState(actor.getSnapshot());
  return { stage, ketamine: dose.ketamine, outcome: outcome?.outcome }; // { stage: 'recovery', ketamine: 0.5, outcome: 'discharged' }
}

// ── Running them ─────────────────────────────────────────────────────────

const irPath = fileURLToPath(new URL('./fixtures/individual-iv.ir.json', import.meta.url));
const NORMAL: Record<string, number> = { sbp: 124, dbp: 78, hr: 72, spo2: 97, cadss: 2 };

describe('docs/embedding.md snippets', () => {
  it('§1 loads the IR and builds an actor on the real clock; a bad file is an IRError with its JSON path', () => {
    const { actor } = startSession(irPath);
    const requests: string[][] = [];
    actor.on('measure.request', (e) => requests.push([...e.measures]));
    actor.start();
    expect(requests).toEqual([['sbp', 'dbp', 'hr', 'spo2']]);
    expect(actor.getSnapshot().value).toEqual({ session: { stage: { predose: 'running' }, clock: 'armed' } });
    actor.stop();
    const bad = fileURLToPath(new URL('./fixtures/does-not-exist.json', import.meta.url));
    expect(() => startSession(bad)).toThrow(/ENOENT/);
    const e = (() => {
      try {
        loadIR({ ...loadIR(readFileSync(irPath, 'utf8')), kapspecIR: 2 });
      } catch (x) {
        return x as IRError;
      }
      return null;
    })();
    expect(e).toMatchObject({ code: 'newer-version', path: '$.kapspecIR' });
  });

  it('§2–§3 answer requests from devices and act on the protocol; §3 output when done', async () => {
    const ir = loadIR(readFileSync(irPath, 'utf8'));
    const clock = new SimulatedClock();
    const actor = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock });
    const devices: Devices = {
      read: async (ms) => Object.fromEntries(ms.map((m) => [m, NORMAL[m]!])),
      stream: () => () => {},
    };
    const paged: string[] = [];
    const pump: string[] = [];
    let done: SessionOutput | null = null;
    answerRequests(actor, devices);
    actOnProtocol(actor, { page: (r, m) => paged.push(`${r}: ${m}`), pump: (c, d) => pump.push(`${c} ${d}`), log: () => {} });
    whenDone(actor, (o) => (done = o));
    actor.start();
    for (let minute = 0; minute < 240 && actor.getSnapshot().status === 'active'; minute++) {
      await new Promise((r) => setImmediate(r)); // let the async device reads answer
      clock.increment(60_000);
    }
    expect(done).toMatchObject({ outcome: 'discharged', at: 120 });
    expect(pump).toEqual(['start ketamine']);
    expect(paged).toEqual([]);
  });

  it('§3 reportToProtocol, §4 sendChecked and input.rejected', () => {
    const ir = loadIR(readFileSync(irPath, 'utf8'));
    const actor = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock: new SimulatedClock() });
    const out: ProtocolEmitted[] = [];
    actor.on('*', (e) => out.push(e));
    const rejected: string[] = [];
    watchRejections(actor, (m) => rejected.push(m));
    actor.start();
    reportToProtocol(actor);
    // Nausea during predose defers the session (rule unwell_before_dose); the actor is done.
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'deferred', rule: 'unwell_before_dose' });

    const b = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock: new SimulatedClock() });
    watchRejections(b, (m) => rejected.push(m));
    b.start();
    expect(sendChecked(ir, b, { type: 'measure', values: { sbp: 300 } })).toBe('sbp 300 mmHg is outside the possible range 50..260 mmHg');
    expect(sendChecked(ir, b, { type: 'measure', values: { sbp: 130, dbp: 80 } })).toBeNull();
    b.send({ type: 'staff.leave', role: 'therapist' });
    b.send({ type: 'staff.leave', role: 'therapist' });
    expect(rejected).toEqual(['no-one-to-leave: no therapist is present to leave ({"type":"staff.leave","role":"therapist"})']);
  });

  it('§5 persist every change and restore into a new actor', async () => {
    const ir = loadIR(readFileSync(irPath, 'utf8'));
    const machine = createProtocolMachine(ir, { session: 'dosing' });
    const clock = new SimulatedClock();
    const actor = createActor(machine, { clock });
    let saved = '';
    persistEveryChange(actor, (json) => (saved = json));
    actor.on('measure.request', (e) => actor.send({ type: 'measure', values: Object.fromEntries(e.measures.map((m) => [m, NORMAL[m]!])) }));
    actor.start();
    for (let minute = 0; minute < 30; minute++) clock.increment(60_000);
    actor.stop();
    expect(JSON.parse(saved).value).toEqual({ session: { stage: { infusion: 'running' }, clock: 'armed' } });
    // `restore` uses the real clock: the session started at clock time 0 (1970), so every deadline is long past
    // and is processed at once, in order — the session runs to its end with the readings it has.
    const back = restore(machine, saved);
    expect(back.getSnapshot().status).toBe('active');
    await new Promise((r) => setTimeout(r, 20)); // the re-armed timer (a real setTimeout of 0 ms) fires
    expect(back.getSnapshot().status).toBe('done');
    expect(back.getSnapshot().output).toMatchObject({ outcome: 'ended', rule: 'not_settled', at: 180 });
  });

  it('§6 runs a session on a SimulatedClock', () => {
    expect(runOnSimulatedClock(loadIR(readFileSync(irPath, 'utf8')))).toMatchObject({ outcome: 'discharged', at: 120 });
  });

  it('§6 steps the clock to each next deadline and reads the session state', () => {
    const r = runToEachDeadline(loadIR(readFileSync(irPath, 'utf8')));
    expect(r).toMatchObject({ stage: 'recovery', outcome: 'discharged' });
    expect(r.ketamine).toBeCloseTo(0.5);
  });
});
