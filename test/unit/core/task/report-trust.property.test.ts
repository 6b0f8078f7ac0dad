import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CDN_SOURCE, type TaskEvent } from '../../../../core/events/index.ts';
import { DamselflyError } from '../../../../core/errors.ts';
import { assignPieces } from '../../../../core/scheduling/assign-pieces.ts';
import { applyTaskEvent, decide, initialTaskState, refusedReports, type DecideOptions, type Round, type TaskState } from '../../../../core/task/index.ts';
import { OPTIONS, POLICY, TASK_ID, createCommand } from './fixtures.ts';
import { commandFor, scenarioArb, type Scenario } from './histories.ts';

/**
 * The rule for reports (decide-round.ts): an ok piece is believed only if the history assigned
 * that piece to that peer id from that source (since the layout was fixed), and every such
 * report of a piece the peer does not hold is believed. Random histories, whose rounds also
 * carry forged claims (any piece, any known source), are checked against a ledger of the
 * assignments kept here from the events alone.
 */
const forgedArb = fc.array(fc.record({ piece: fc.nat(30), source: fc.nat(6) }), { maxLength: 4 });

function ledgerKey(peerId: string, piece: number, source: string): string {
  return `${peerId}/${piece}/${source}`;
}

function check(scenario: Scenario, forged: { piece: number; source: number }[][], options: DecideOptions) {
  let state: TaskState = initialTaskState(TASK_ID);
  let assigned = new Set<string>();
  let at = 1;
  let refusedSeen = 0;
  const apply = (event: TaskEvent) => {
    // A new layout (or a re-created task) starts the ledger over, as it starts the state over.
    if (event.type === 'SourceProbed' || event.type === 'TaskCreated') assigned = new Set();
    if (event.type === 'PiecesAssigned') for (const a of event.data.assignments) assigned.add(ledgerKey(event.data.peerId, a.piece, a.source));
    state = applyTaskEvent(state, event);
  };
  for (const e of decide(createCommand(at), state, options)) apply(e);
  scenario.steps.forEach((step, i) => {
    at += step.dt;
    let command = commandFor(step, state, at, scenario);
    if (command.type === 'Round') {
      const sources = [CDN_SOURCE, ...state.peers.keys()].filter((id) => id !== (command as Round).peerId);
      const extra = (forged[i % forged.length] ?? []).map((f) => ({ piece: f.piece % Math.max(1, state.pieceCount ?? 1), source: sources[f.source % sources.length]!, ms: 1 }));
      command = { ...command, ok: [...command.ok, ...extra] };
    }
    let events: TaskEvent[];
    try {
      events = decide(command, state, options);
    } catch (e) {
      if (!(e instanceof DamselflyError)) throw e;
      return;
    }
    if (command.type === 'Round') {
      const round = command;
      const peer = state.peers.get(round.peerId)!;
      const refused = refusedReports(state, round.peerId, round.ok);
      refusedSeen += refused.length;
      const reported = events.find((e) => e.type === 'PiecesReported');
      const believed = reported?.type === 'PiecesReported' ? reported.data.ok.flatMap(({ source, pieces }) => pieces.map((piece) => ({ piece, source }))) : [];
      // Sound: nothing is believed that the history did not assign.
      for (const { piece, source } of believed) expect(assigned.has(ledgerKey(round.peerId, piece, source)), `${round.peerId} believed for ${piece} from ${source}`).toBe(true);
      // Complete: of an active peer, every claim of a piece it lacks (and has not just been
      // believed for, earlier in the round) is believed exactly when it was assigned.
      if (peer.status === 'active') {
        const got = new Set<number>();
        for (const { piece, source } of round.ok) {
          if (peer.have[piece] || got.has(piece)) continue;
          const legit = assigned.has(ledgerKey(round.peerId, piece, source));
          if (legit) got.add(piece);
          const isRefused = refused.some((r) => r.piece === piece && r.source === source);
          expect(isRefused, `${round.peerId}: claim of ${piece} from ${source}`).toBe(!legit);
          if (legit) expect(believed.some((b) => b.piece === piece), `piece ${piece} recorded`).toBe(true);
        }
        for (const r of refused) expect(believed.some((b) => b.piece === r.piece && b.source === r.source)).toBe(false);
      }
    }
    for (const e of events) apply(e);
  });
  return refusedSeen;
}

describe.each([
  ['the test scheduler', OPTIONS],
  ['core/scheduling assignPieces', { policy: POLICY, assign: assignPieces }],
])('reports in random histories with %s', (_name, options) => {
  it('are believed exactly when the piece was assigned to the peer from that source', () => {
    let refused = 0;
    fc.assert(
      fc.property(scenarioArb, fc.array(forgedArb, { minLength: 1, maxLength: 20 }), (scenario, forged) => {
        refused += check(scenario, forged, options);
      }),
      { numRuns: 100 },
    );
    // The forged claims did reach the rule (a generator that never forged would prove nothing).
    expect(refused).toBeGreaterThan(50);
  });
});
