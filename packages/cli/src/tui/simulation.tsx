/**
 * The live session view of `kapspec simulate` on a terminal: a pre-computed
 * trace played back on a timer. Small pure components (props in, text out);
 * the playback state lives in `playReducer` (playback.ts).
 *
 * Keys: space pause/resume, → step one happening, + / − speed, q quit.
 */
import { useEffect, useMemo, useReducer } from 'react';
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { IR, MeasureDecl } from '@kapspec/runtime';
import type { Trace } from '@kapspec/simulator';
import { clip, pad, padLeft, showNumber, showT } from './format.js';
import {
  initialPlayState,
  lastSample,
  makePlayback,
  playReducer,
  sceneAt,
  windowValues,
  type LogLine,
  type ParticipantScene,
  type Playback,
  type PlayState,
  type StageMark,
  type StaffRow,
} from './playback.js';
import { block, scaleOf, runs } from './sparkline.js';
import { severity, showThresholds, type Threshold } from './thresholds.js';

// ── Pieces ───────────────────────────────────────────────────────────────

const SEVERITY_COLOR = [undefined, 'yellow', 'red'] as const;

export function PlaybackBar({ title, session, state, finished }: { title: string; session: string; state: PlayState; finished: boolean }) {
  const status = finished ? '■ finished' : state.playing ? '▶ playing' : '‖ playback paused';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>{title}</Text>
        <Text> · session {session}</Text>
      </Text>
      <Text wrap="truncate">
        <Text bold>{showT(state.clock)}</Text>
        <Text>{'  '}</Text>
        <Text color={finished ? 'green' : state.playing ? 'cyan' : 'yellow'}>{status}</Text>
        <Text>{`  ${showNumber(state.speed)} min/s   `}</Text>
        <Text dimColor>space pause/resume · → step · + / − speed · q quit</Text>
      </Text>
    </Box>
  );
}

/** The stages in order: ✓ done, ▶ current (‖ PAUSED), · pending, ⤼ skipped; under them the outcome. */
export function StageTimeline({ stages, outcome, group = false }: { stages: readonly StageMark[]; outcome?: string | undefined; group?: boolean }) {
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>Stages </Text>
        {stages.map((s, i) => {
          const mark = s.status === 'done' ? '✓' : s.status === 'current' ? '▶' : s.status === 'skipped' ? '⤼' : '·';
          const paused = s.pausedBy.length > 0;
          return (
            <Text key={s.name}>
              <Text dimColor>{i > 0 ? ' ─ ' : ' '}</Text>
              <Text
                color={s.status === 'current' ? 'cyan' : s.status === 'done' ? 'green' : undefined}
                bold={s.status === 'current'}
                dimColor={s.status === 'pending' || s.status === 'skipped'}
                inverse={s.status === 'current'}
              >
                {`${mark} ${s.name}`}
              </Text>
              {paused ? (
                <Text color="yellow" bold>
                  {` ‖ PAUSED${group ? ` (${s.pausedBy.join(', ')})` : ''}`}
                </Text>
              ) : null}
            </Text>
          );
        })}
      </Text>
      <Text wrap="truncate">
        <Text bold>Outcome </Text>
        {outcome ? (
          <Text color="magenta" bold>{` ■ ${outcome}`}</Text>
        ) : (
          <Text dimColor> — (in session)</Text>
        )}
      </Text>
    </Box>
  );
}

/** A sparkline coloured by how far each value is past the thresholds. */
export function Spark({ values, scale, thresholds }: { values: readonly (number | undefined)[]; scale: { lo: number; hi: number }; thresholds: readonly Threshold[] }) {
  const cells = values.map((v) => (v === undefined ? ' ' : block(v, scale.lo, scale.hi)));
  const keys = values.map((v) => severity(thresholds, v));
  return (
    <Text>
      {runs(cells, keys).map((r, i) => (
        <Text key={i} color={SEVERITY_COLOR[r.key]}>
          {r.text}
        </Text>
      ))}
    </Text>
  );
}

export interface VitalsRowProps {
  readonly measure: MeasureDecl;
  readonly truth: readonly (number | undefined)[];
  readonly seen: readonly (number | undefined)[];
  readonly truthNow: number | undefined;
  readonly seenNow: { value: number; at: number } | undefined;
  readonly t: number;
  readonly thresholds: readonly Threshold[];
}

const VITAL_NAME = 6;
const VITAL_UNIT = 6;
const VITAL_VALUE = 6;
const VITAL_AGE = 11;

/** `SBP   mmHg  ▁▂▃▅▇  192.5  ▁▁▂▂▅    186 5 min ago  >160 >180 >200` (true trend and value, seen trend and value, age of the reading, thresholds) */
export function VitalsRow({ measure, truth, seen, truthNow, seenNow, t, thresholds }: VitalsRowProps) {
  const scale = scaleOf([...truth, ...seen], thresholds.map((x) => x.value));
  const age = seenNow ? t - seenNow.at : undefined;
  const when = age === undefined ? 'no reading' : age < 0.05 ? 'now' : `${showNumber(age)} min ago`;
  return (
    <Text wrap="truncate">
      <Text bold>{pad(measure.name.toUpperCase(), VITAL_NAME)}</Text>
      <Text dimColor>{pad(measure.unit, VITAL_UNIT)}</Text>
      <Spark values={truth} scale={scale} thresholds={thresholds} />
      <Text color={SEVERITY_COLOR[severity(thresholds, truthNow)]}>{`${padLeft(truthNow === undefined ? '?' : showNumber(truthNow), VITAL_VALUE)}  `}</Text>
      <Spark values={seen} scale={scale} thresholds={thresholds} />
      <Text color={SEVERITY_COLOR[severity(thresholds, seenNow?.value)]} bold>{padLeft(seenNow === undefined ? '—' : showNumber(seenNow.value), VITAL_VALUE)}</Text>
      <Text dimColor>{` ${pad(when, VITAL_AGE)}`}</Text>
      {thresholds.length ? <Text dimColor>{` ${showThresholds(thresholds)}`}</Text> : null}
    </Text>
  );
}

export interface VitalsPanelProps {
  readonly participant: ParticipantScene;
  readonly measures: readonly MeasureDecl[];
  readonly thresholds: ReadonlyMap<string, readonly Threshold[]>;
  readonly t: number;
  /** Columns of each sparkline (one per `step` minutes). */
  readonly width: number;
  readonly step?: number;
  readonly doses?: string | undefined;
}

/** One participant's vitals: per measure the true values and the readings as sparklines over the recent window. */
export function VitalsPanel({ participant, measures, thresholds, t, width, step = 1, doses }: VitalsPanelProps) {
  const minutes = showNumber(width * step);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>{`Vitals · ${participant.id}`}</Text>
        {doses ? <Text>{`   dose so far: ${doses}`}</Text> : null}
      </Text>
      <Text dimColor wrap="truncate">
        {`${pad('', VITAL_NAME + VITAL_UNIT)}${pad(`true, last ${minutes} min`, width + VITAL_VALUE + 2)}${pad('seen (readings)', width + VITAL_VALUE)} ${pad('read', VITAL_AGE)} rule thresholds`}
      </Text>
      {measures.map((m) => {
        const ths = thresholds.get(m.name) ?? [];
        const seen = lastSample(participant.seen[m.name]);
        return (
          <VitalsRow
            key={m.name}
            measure={m}
            truth={windowValues(participant.truth[m.name], t, width, step)}
            seen={windowValues(participant.seen[m.name], t, width, step)}
            truthNow={lastSample(participant.truth[m.name])?.v}
            seenNow={seen ? { value: seen.v, at: seen.t } : undefined}
            t={t}
            thresholds={ths}
          />
        );
      })}
    </Box>
  );
}

const LOG_COLOR: Record<LogLine['kind'], string | undefined> = {
  event: 'yellow',
  rule: 'cyan',
  action: undefined,
  stage: 'green',
  staff: 'blue',
  alert: 'red',
  outcome: 'magenta',
};

/** The most recent `height` log lines. In a group, a line about every one of the `participants` says `all`. */
export function EventLog({ lines, height, participants = 1 }: { lines: readonly LogLine[]; height: number; participants?: number }) {
  const shown = lines.slice(Math.max(0, lines.length - height));
  return (
    <Box flexDirection="column">
      <Text bold>{`Log (${lines.length} so far)`}</Text>
      {shown.length === 0 ? <Text dimColor>  nothing yet</Text> : null}
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate">
          <Text dimColor>{`  ${padLeft(showT(l.t), 12)}  `}</Text>
          {l.who.length ? <Text bold>{`${participants > 1 && l.who.length === participants ? 'all' : l.who.join(',')}: `}</Text> : null}
          <Text color={LOG_COLOR[l.kind]} bold={l.kind === 'alert' || l.kind === 'outcome'}>
            {l.text}
          </Text>
        </Text>
      ))}
    </Box>
  );
}

/** Per role: free, attending, absent (and who is attended until when). */
export function StaffBoard({ rows }: { rows: readonly StaffRow[] }) {
  const w = Math.max(8, ...rows.map((r) => r.role.length));
  return (
    <Box flexDirection="column">
      <Text bold>Staff</Text>
      {rows.map((r) => (
        <Text key={r.role} wrap="truncate">
          <Text>{`  ${pad(r.role, w)}  `}</Text>
          <Text color={r.free > 0 ? 'green' : 'red'}>{`free ${r.free}`}</Text>
          <Text>{'  '}</Text>
          <Text color={r.attending > 0 ? 'yellow' : undefined}>{`attending ${r.attending}`}</Text>
          <Text>{'  '}</Text>
          <Text color={r.absent > 0 ? 'red' : undefined} dimColor={r.absent === 0}>{`absent ${r.absent}`}</Text>
          {r.assignments.length ? <Text dimColor>{`  (${r.assignments.map((a) => `${a.participant} until ${showT(a.until)}`).join('; ')})`}</Text> : null}
        </Text>
      ))}
    </Box>
  );
}

export interface ParticipantGridProps {
  readonly participants: readonly ParticipantScene[];
  readonly measures: readonly MeasureDecl[];
  readonly thresholds: ReadonlyMap<string, readonly Threshold[]>;
  readonly t: number;
  /** Sparkline columns per measure (0: none). */
  readonly sparkWidth: number;
  /** Minutes per sparkline column (default 5). */
  readonly step?: number;
}

/** Groups: one row per participant — stage, each measure's last reading with its true trend, care, outcome. */
export function ParticipantGrid({ participants, measures, thresholds, t, sparkWidth, step = 5 }: ParticipantGridProps) {
  const idw = Math.max(4, ...participants.map((p) => p.id.length));
  // A cell: the last reading (6), then the true trend, then 2 spaces.
  const cell = 6 + (sparkWidth > 0 ? sparkWidth + 1 : 0) + 2;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>{`Participants (${participants.length})`}</Text>
        <Text dimColor>{sparkWidth > 0 ? `  last reading, true trend over ${showNumber(sparkWidth * step)} min` : '  last reading'}</Text>
      </Text>
      <Text dimColor wrap="truncate">
        {`  ${pad('', idw)}  ${pad('stage', 18)}${measures.map((m) => pad(m.name.toUpperCase(), cell)).join('')}status`}
      </Text>
      {participants.map((p) => {
        const stage = p.outcome ? '—' : (p.stage ?? '—');
        const paused = p.stage !== undefined && p.paused.includes(p.stage);
        return (
          <Text key={p.id} wrap="truncate">
            <Text bold>{`  ${pad(p.id, idw)}  `}</Text>
            <Text color={paused ? 'yellow' : undefined}>{pad(clip(paused ? `${stage} ‖ PAUSED` : stage, 17), 18)}</Text>
            {measures.map((m) => {
              const ths = thresholds.get(m.name) ?? [];
              const seen = lastSample(p.seen[m.name]);
              const truth = windowValues(p.truth[m.name], t, sparkWidth, step);
              const scale = scaleOf(truth, ths.map((x) => x.value));
              return (
                <Text key={m.name}>
                  <Text color={SEVERITY_COLOR[severity(ths, seen?.v)]} bold>{pad(seen ? showNumber(seen.v) : '—', 6)}</Text>
                  {sparkWidth > 0 ? (
                    <Text>
                      <Spark values={truth} scale={scale} thresholds={ths} />
                      <Text>{'   '}</Text>
                    </Text>
                  ) : (
                    <Text>{'  '}</Text>
                  )}
                </Text>
              );
            })}
            {p.outcome ? (
              <Text color="magenta" bold>{`${p.outcome.outcome} ${showT(p.outcome.t)}`}</Text>
            ) : p.attended.length ? (
              <Text color="yellow">{`attended by ${p.attended.map((a) => a.role).join(', ')}`}</Text>
            ) : (
              <Text dimColor>in session</Text>
            )}
          </Text>
        );
      })}
    </Box>
  );
}

// ── The view ─────────────────────────────────────────────────────────────

export interface SimulationViewProps {
  readonly ir: IR;
  readonly trace: Trace;
  /** Playback speed in simulated minutes per second (default 10). */
  readonly speed?: number;
  /** Start with the playback paused (step with →). */
  readonly paused?: boolean;
  /** Real milliseconds between timer ticks (default 100). */
  readonly tickMs?: number;
  /** Width to lay out for (default: the terminal's, else 100). */
  readonly columns?: number;
  /** Log lines shown (default 8 for one participant, 6 for a group). */
  readonly logLines?: number;
  /** Leave when the playback reaches the end of the trace (default false: wait for q). */
  readonly exitOnEnd?: boolean;
  /** Called once when the view quits (q, or the end with `exitOnEnd`). */
  readonly onQuit?: () => void;
}

/** The outcome text of the timeline. */
export function outcomeText(participants: readonly ParticipantScene[], group: boolean, horizon: boolean, finished: boolean): string | undefined {
  if (!group) {
    const o = participants[0]?.outcome;
    if (o) return `${o.outcome} at ${showT(o.t)}${o.reason ? ` (${o.reason})` : ''}${o.rule ? ` [rule ${o.rule}]` : ''}`;
  } else {
    const done = participants.filter((p) => p.outcome);
    if (done.length) {
      const counts = new Map<string, number>();
      for (const p of done) counts.set(p.outcome!.outcome, (counts.get(p.outcome!.outcome) ?? 0) + 1);
      const open = participants.length - done.length;
      return `${[...counts].map(([o, n]) => `${n} ${o}`).join(', ')}${open ? `, ${open} in session` : ''}`;
    }
  }
  if (finished && horizon) return 'no outcome (time horizon)';
  return undefined;
}

function doseLine(p: Playback, participant: ParticipantScene): string | undefined {
  const parts = p.ir.drugs
    .filter((d) => participant.dose[d.name] !== undefined)
    .map((d) => `${d.name} ${showNumber(Math.round(participant.dose[d.name]! * 1000) / 1000)}${d.max ? `/${showNumber(d.max.value)}` : ''} ${d.unit}`);
  return parts.length ? parts.join(', ') : undefined;
}

export function SimulationScreen({ playback, state, columns, logLines }: { playback: Playback; state: PlayState; columns: number; logLines?: number }) {
  const scene = sceneAt(playback, state.cursor, state.clock);
  const header = playback.trace.header;
  const group = playback.group;
  const outcome = outcomeText(scene.participants, group, scene.horizon, scene.finished);
  // Individual: label 12 + value 6 + "seen" 7 + value 6 + age 17 + rules ~20 = ~68 fixed columns.
  const spark = Math.max(8, Math.min(40, Math.floor((columns - 62) / 2)));
  const gridSpark = Math.max(0, Math.min(16, Math.floor((columns - 50) / Math.max(1, playback.measures.length)) - 9));
  const first = scene.participants[0];
  return (
    <Box flexDirection="column" width={columns}>
      <PlaybackBar title={header.protocol} session={header.session} state={state} finished={scene.finished} />
      <StageTimeline stages={scene.stages} outcome={outcome} group={group} />
      <Text> </Text>
      {group || !first ? (
        <ParticipantGrid participants={scene.participants} measures={playback.measures} thresholds={playback.thresholds} t={state.clock} sparkWidth={gridSpark} />
      ) : (
        <VitalsPanel participant={first} measures={playback.measures} thresholds={playback.thresholds} t={state.clock} width={spark} doses={doseLine(playback, first)} />
      )}
      <Text> </Text>
      <StaffBoard rows={scene.staff} />
      <Text> </Text>
      <EventLog lines={scene.log} height={logLines ?? (group ? 6 : 8)} participants={playback.participants.length} />
      {scene.finished ? <Text dimColor>End of the trace — q to quit.</Text> : null}
    </Box>
  );
}

export function SimulationView(props: SimulationViewProps) {
  const { ir, trace, tickMs = 100 } = props;
  const playback = useMemo(() => makePlayback(ir, trace), [ir, trace]);
  const [state, dispatch] = useReducer(
    (s: PlayState, a: Parameters<typeof playReducer>[2]) => playReducer(playback, s, a),
    undefined,
    () => initialPlayState(playback, { ...(props.speed !== undefined ? { speed: props.speed } : {}), paused: props.paused === true }),
  );
  const app = useApp();
  const { isRawModeSupported } = useStdin();
  const { stdout } = useStdout();
  const columns = props.columns ?? Math.max(60, Math.min(160, stdout?.columns ?? 100));

  useInput(
    (input, key) => {
      if (input === ' ') dispatch({ type: 'toggle' });
      else if (key.rightArrow) dispatch({ type: 'step' });
      else if (input === '+' || input === '=') dispatch({ type: 'faster' });
      else if (input === '-' || input === '_' || input === '−') dispatch({ type: 'slower' });
      else if (input === 'q' || input === 'Q' || key.escape) dispatch({ type: 'quit' });
    },
    { isActive: isRawModeSupported === true },
  );

  useEffect(() => {
    if (!state.playing) return;
    const timer = setInterval(() => dispatch({ type: 'tick', ms: tickMs }), tickMs);
    return () => clearInterval(timer);
  }, [state.playing, tickMs]);

  const finished = state.cursor >= trace.records.length;
  const leave = state.quit || (finished && (props.exitOnEnd === true || isRawModeSupported !== true));
  useEffect(() => {
    if (!leave) return;
    props.onQuit?.();
    app.exit();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [leave]);

  return <SimulationScreen playback={playback} state={state} columns={columns} {...(props.logLines !== undefined ? { logLines: props.logLines } : {})} />;
}
