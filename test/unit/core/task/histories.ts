import fc from 'fast-check';
import { bySource, FailureReason, type TaskEvent, type VerifiedPiece } from '../../../../core/events/index.ts';
import { DamselflyError } from '../../../../core/errors.ts';
import { decide, type DecideOptions, type Round, type Sync, type TaskCommand, type TaskState } from '../../../../core/task/index.ts';
import { createCommand, digestOf } from './fixtures.ts';

/**
 * Random task histories for property tests: arbitrary "intents" that are turned into commands
 * against the state as it evolves, so that most of them are valid (a random command would
 * nearly always be refused) and the rest exercise decide()'s refusals.
 */
export interface Step {
  kind: number;
  a: number;
  b: number;
  c: number;
  dt: number;
}

export const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.nat(99),
  a: fc.nat(1_000),
  b: fc.nat(1_000_000),
  c: fc.nat(1_000),
  dt: fc.oneof({ weight: 20, arbitrary: fc.nat(400) }, { weight: 1, arbitrary: fc.nat(15_000) }),
});

export const scenarioArb = fc.record({
  pieces: fc.integer({ min: 1, max: 24 }),
  short: fc.nat(9),
  steps: fc.array(stepArb, { minLength: 40, maxLength: 200 }),
  snapshotAt: fc.nat(),
});
export type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

const PEERS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
const REASONS = FailureReason.options;

export function commandFor(step: Step, state: TaskState, at: number, scenario: Scenario): TaskCommand {
  const { kind, a, b, c } = step;
  const n = state.pieceCount ?? 0;
  const newcomer = PEERS[a % PEERS.length]!;
  // Mostly address peers that joined, so that rounds and leaves are not refused for nothing.
  const joined = [...state.peers.keys()].filter((id) => state.peers.get(id)!.status === 'active');
  const peerId = joined.length > 0 && c % 5 !== 0 ? joined[a % joined.length]! : newcomer;
  if (state.status === 'created' && kind < 60) {
    return { type: 'RecordProbe', at, contentLength: scenario.pieces * 10 - scenario.short, pieceSize: 10, acceptRanges: true, etag: null, lastModified: null };
  }
  if (kind < 14) return { type: 'Join', at, peerId: newcomer, hostId: `h-${newcomer}`, address: c % 10 === 0 ? `127.0.0.2:${c}` : `127.0.0.1:${7000 + (a % PEERS.length)}` };
  if (kind < 43) return roundFor(step, state, at, peerId);
  if (kind < 55) return syncFor(step, state, at, peerId);
  if (kind < 65) {
    const pieces = [];
    for (let i = 0; i < 1 + (b % 3) && n > 0; i++) {
      const piece = (a + i) % n;
      pieces.push({ piece, size: Math.min(10, (state.contentLength ?? 0) - piece * 10), digest: digestOf(piece) });
    }
    return { type: 'RecordSeededPieces', at, pieces };
  }
  if (kind < 75) return { type: 'ExpireAssignments', at };
  if (kind < 80) return { type: 'Leave', at, peerId, outcome: (['succeeded', 'failed', 'left'] as const)[b % 3]!, reason: 'r' };
  if (kind < 84) {
    // A takeover: mostly with what the new owner's CDN holds (a random subset, by the bits of
    // c), so that holdings shrink and are refilled by RecordSeededPieces later in the history.
    const cdnPieces = b % 4 === 0 ? undefined : Array.from({ length: n }, (_, p) => p).filter((p) => (c >> (p % 10)) & 1);
    return { type: 'AcquireOwnership', at, replicaId: `r${c % 3}`, epoch: (state.owner?.epoch ?? 0) + (b % 3), ...(cdnPieces ? { cdnPieces } : {}) };
  }
  if (kind < 93) return { type: 'CompleteSeed', at };
  // Failing or evicting ends most of the history, so they are rare.
  if (kind < 96) return c % 20 === 0 ? { type: 'FailTask', at, reason: 'origin failed' } : { type: 'ExpireAssignments', at };
  if (kind < 98) return c % 12 === 0 ? { type: 'Evict', at } : { type: 'ExpireAssignments', at };
  return createCommand(at);
}

/** A round of `peerId`: each in-flight piece finishes, fails or stays, by the bits of b; sometimes an unassigned or bad entry. */
function roundFor({ b, c }: Step, state: TaskState, at: number, peerId: string): Round {
  const ok: Round['ok'] = [];
  const failed: Round['failed'] = [];
  const peer = state.peers.get(peerId);
  let bits = b;
  for (const [piece, entry] of Object.entries(peer?.inflight ?? {})) {
    const choice = bits % 3;
    bits = Math.floor(bits / 3);
    if (choice === 0) ok.push({ piece: Number(piece), source: entry.source, ms: 1 });
    else if (choice === 1) failed.push({ piece: Number(piece), source: entry.source, reason: REASONS[c % REASONS.length]! });
  }
  const n = state.pieceCount ?? 0;
  if (c % 7 === 0 && n > 0) ok.push({ piece: c % n, source: 'cdn', ms: 2 }); // a claim of a piece maybe never assigned: refused then
  if (c % 13 === 0 && ok.length > 0) ok.push(ok[0]!); // duplicate entry
  if (c % 97 === 0) ok.push({ piece: n + 1, source: 'cdn', ms: 1 }); // out of range: refused
  return { type: 'Round', at, peerId, ok, failed, want: c % 5 };
}

/**
 * A sync of `peerId`: pieces it lacks "arrive" from its parents, or fail, by the bits of b;
 * sometimes a claim from a source that was never its parent, a duplicate, or a parent it wants replaced.
 */
function syncFor({ b, c }: Step, state: TaskState, at: number, peerId: string): Sync {
  const ok: VerifiedPiece[] = [];
  const failed: Sync['failed'] = [];
  const peer = state.peers.get(peerId);
  const parents = peer?.parents ?? [];
  const n = state.pieceCount ?? 0;
  let bits = b;
  for (let piece = 0; piece < n && parents.length > 0 && bits > 0; piece++) {
    const choice = bits % 4;
    bits = Math.floor(bits / 4);
    if (peer?.have[piece]) continue;
    const source = parents[(piece + c) % parents.length]!;
    if (choice === 0) ok.push({ piece, source, ms: 1 });
    else if (choice === 1 && c % 3 === 0) failed.push({ piece, source, reason: REASONS[c % REASONS.length]! });
  }
  if (c % 7 === 0 && n > 0) ok.push({ piece: c % n, source: PEERS[c % PEERS.length]!, ms: 2 }); // maybe never a parent: refused then
  if (c % 13 === 0 && ok.length > 0) ok.push(ok[0]!); // duplicate entry
  if (c % 97 === 0) ok.push({ piece: n + 1, source: 'cdn', ms: 1 }); // out of range: refused
  const replace = c % 4 === 0 && parents.length > 0 ? [parents[c % parents.length]!] : [];
  return { type: 'Sync', at, peerId, ok: bySource(ok), failed, replace };
}

export interface History {
  events: TaskEvent[];
  /** states[k] is the state after the first k events. */
  states: TaskState[];
  refused: number;
  /** The codes of the refusals, in order. */
  codes: string[];
}

/**
 * Runs a scenario: decide each command on the current state and fold its events with `fold`
 * (the live actor's path). Refusals must be DamselflyErrors; anything else is a bug.
 */
export function runScenario(
  scenario: Scenario,
  start: TaskState,
  fold: (state: TaskState, event: TaskEvent) => TaskState,
  options: DecideOptions,
  onEvent: (state: TaskState, event: TaskEvent) => void = () => {},
): History {
  let state = start;
  const events: TaskEvent[] = [];
  const states = [state];
  let refused = 0;
  const codes: string[] = [];
  let at = 1;
  const commands: TaskCommand[] = [createCommand(at)];
  for (const step of [undefined, ...scenario.steps]) {
    if (step) {
      at += step.dt;
      commands.push(commandFor(step, state, at, scenario));
    }
    let decided: TaskEvent[];
    try {
      decided = decide(commands[commands.length - 1]!, state, options);
    } catch (e) {
      if (!(e instanceof DamselflyError)) throw e;
      refused++;
      codes.push(e.code);
      continue;
    }
    for (const event of decided) {
      state = fold(state, event);
      events.push(event);
      states.push(state);
      onEvent(state, event);
    }
  }
  return { events, states, refused, codes };
}
