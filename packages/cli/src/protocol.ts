/**
 * What `compile`, `simulate`, `test`, `replay` and `stats` share: reading and compiling a
 * protocol (diagnostics on stderr), choosing a session, naming a `.kap` line,
 * and numeric option parsing. Reached only through `await import(...)` from
 * command actions, so the compiler stays out of the start-up chunk.
 */
import { InvalidArgumentError } from 'commander';
import type { IR, Session, SourceSpan } from '@kapspec/runtime';
import { EXIT_FINDINGS, EXIT_USAGE } from './context.js';
import { useColor, type Io } from './io.js';
import { readSources, renderShown } from './commands/sources.js';

export interface Protocol {
  /** The path as given on the command line. */
  readonly file: string;
  readonly text: string;
  readonly ir: IR;
}

/**
 * Reads and compiles `file`. Diagnostics (warnings too) go to stderr; on a
 * read error or a protocol with errors, a line says so and the exit code is
 * returned instead of a protocol: 2 for a file that cannot be read; for a
 * protocol with errors, 1 from `compile` (its findings, as `check`) and 2
 * from the commands that run a protocol (`simulate`, `test`, `replay`,
 * `stats`: nothing could be run, an input error as DESIGN.md's exit codes
 * say).
 */
export async function loadProtocol(io: Io, command: string, file: string): Promise<Protocol | number> {
  const [language, compiler] = await Promise.all([import('@kapspec/language'), import('@kapspec/compiler')]);
  const [source] = await readSources(io, [file]);
  if (!source || 'error' in source) {
    io.stderr.write(`${source?.error ?? `kapspec: cannot read ${file}`}\n`);
    return EXIT_USAGE;
  }
  const result = compiler.compile(source.text, { file: source.file });
  if (result.diagnostics.length > 0) {
    const color = useColor(io, io.stderr);
    io.stderr.write(`${renderShown(language, result.diagnostics, source.text, { file: source.file, color })}\n\n`);
  }
  if (!result.ir) {
    const done: Record<string, string> = { test: 'tested', replay: 'replayed', compile: 'compiled', stats: 'simulated', simulate: 'simulated' };
    io.stderr.write(`kapspec ${command}: ${file} has errors (${language.summarize(result.diagnostics)}); nothing ${done[command] ?? 'done'}\n`);
    return command === 'compile' ? EXIT_FINDINGS : EXIT_USAGE;
  }
  return { file: source.file, text: source.text, ir: result.ir };
}

/** Compiles `text` as if it were the file `file` (replay: the trace may name the protocol by another path). */
export async function compileAs(text: string, file: string): Promise<IR | undefined> {
  const compiler = await import('@kapspec/compiler');
  return compiler.compile(text, { file }).ir;
}

const quoteList = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ');

/**
 * The session to run. Named: that one (an unknown name is a usage error).
 * Not named: the protocol's only session, else its first session that
 * administers a drug (the dosing session), else its first session.
 */
export function chooseSession(io: Io, command: string, p: Protocol, name: string | undefined): Session | number {
  const { sessions } = p.ir;
  if (name !== undefined) {
    const s = sessions.find((x) => x.name === name);
    if (s) return s;
    io.stderr.write(`kapspec ${command}: ${p.file} has no session \`${name}\`; its sessions are ${quoteList(sessions.map((x) => x.name))}\n`);
    return EXIT_USAGE;
  }
  const s = sessions.length === 1 ? sessions[0] : (sessions.find((x) => x.stages.some((st) => st.administer.length > 0)) ?? sessions[0]);
  if (!s) {
    io.stderr.write(`kapspec ${command}: ${p.file} declares no session\n`);
    return EXIT_USAGE;
  }
  return s;
}

/** `file:line` of a span (the span's own file when it has one). */
export function spanLine(span: SourceSpan | undefined, file: string): string | undefined {
  return span ? `${span.file ?? file}:${span.line}` : undefined;
}

/** Where a session outcome was decided: the rule's line, else the gate / discharge / population line. */
export function outcomeSpan(session: Session, ir: IR, o: { outcome: string; rule?: string; reason?: string }): SourceSpan | undefined {
  if (o.rule !== undefined) {
    const r = session.rules.find((x) => x.id === o.rule);
    if (r) {
      const a = r.actions.find((x) => (x.kind === 'defer' || x.kind === 'endSession') && x.reason === o.reason);
      return a?.span ?? r.span;
    }
  }
  if (o.outcome === 'discharged') return session.discharge?.span;
  for (const st of session.stages) for (const g of st.gates) if (g.otherwise.reason === o.reason) return g.span;
  if (o.outcome === 'deferred' && ir.population) return ir.population.span;
  return undefined;
}

// ── Option values (commander argParsers: a bad value is a usage error) ──

export const MAX_SEED = 0xffff_ffff;

/** A seed: an integer 0..4294967295 (the simulator's RNG takes 32 bits). */
export function parseSeed(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_SEED) throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_SEED}`);
  return n;
}

/** A decimal number of 0 or more (a rate). */
export function parseNonNegative(value: string): number {
  const n = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a decimal number of 0 or more, written out (like 0.5; no exponent such as 1e3)');
  return n;
}

/** A decimal number above 0 (a duration). */
export function parsePositiveNumber(value: string): number {
  const n = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a decimal number above 0, written out (like 10; no exponent such as 1e3)');
  return n;
}

/** The calibrated model's staff option from `--staff-leave-rate` / `--staff-absence` (undefined when neither is given). */
export function staffOption(options: { readonly staffLeaveRate?: number; readonly staffAbsence?: number }): { leaveRatePerHour?: number; absenceMeanMinutes?: number } | undefined {
  if (options.staffLeaveRate === undefined && options.staffAbsence === undefined) return undefined;
  return {
    ...(options.staffLeaveRate !== undefined ? { leaveRatePerHour: options.staffLeaveRate } : {}),
    ...(options.staffAbsence !== undefined ? { absenceMeanMinutes: options.staffAbsence } : {}),
  };
}

/** A positive integer (runs, participants). */
export function parsePositive(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}
