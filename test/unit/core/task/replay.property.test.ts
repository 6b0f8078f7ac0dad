import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CDN_SOURCE, type TaskEventType } from '../../../../core/events/index.ts';
import {
  TASK_EVENT_TYPES,
  canonicalJson,
  evolve,
  initialTaskSnapshot,
  parseTaskState,
  replay,
  replayByTransition,
  snapshotFromState,
  stateHash,
  stateOf,
  taskInvariantViolations,
  type DecideOptions,
  type TaskSnapshot,
} from '../../../../core/task/index.ts';
import { DEFAULT_POLICY } from '../../../../core/scheduling/policy.ts';
import { assignPieces } from '../../../../core/scheduling/assign-pieces.ts';
import { OPTIONS, POLICY, TASK_ID, deepFreeze } from './fixtures.ts';
import { runScenario, scenarioArb, type Scenario } from './histories.ts';

const seen = new Set<TaskEventType>();
let totalEvents = 0;
let totalRefused = 0;

/** The live actor's path: XState's transition, one event at a time, on frozen contexts. */
function live(scenario: Scenario, options: DecideOptions) {
  let snapshot: TaskSnapshot = initialTaskSnapshot(TASK_ID);
  const history = runScenario(scenario, stateOf(snapshot), (state, event) => {
    // Frozen, so a reducer that wrote into the previous state would throw here.
    deepFreeze(state);
    snapshot = evolve(snapshot, event);
    return stateOf(snapshot);
  }, options, (state, event) => {
    seen.add(event.type);
    expect(taskInvariantViolations(state), `after ${event.type}`).toEqual([]);
    // Whoever schedules, the CDN is offered only for pieces it holds now (takeovers included).
    if (event.type === 'PiecesAssigned') {
      for (const a of event.data.assignments) if (a.source === CDN_SOURCE) expect(state.cdnHeld[a.piece], `CDN offered for piece ${a.piece}`).toBe(true);
    }
    expect(snapshot.value).toBe(state.status);
  });
  totalEvents += history.events.length;
  totalRefused += history.refused;
  return { ...history, snapshot };
}

// Once with the small test scheduler (assignments guaranteed whatever core/scheduling does),
// once with the real scheduler: replay must hold whoever makes the decisions.
describe.each([
  ['the test scheduler', OPTIONS],
  ['core/scheduling assignPieces', { policy: POLICY, assign: assignPieces }],
])('random histories with %s', (_name, options) => {
  it('keep the invariants after every event, and replay to the live state hash', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { events, states, snapshot } = live(scenario, options);
        const hash = stateHash(snapshot);
        expect(stateHash(replay(events))).toBe(hash);
        expect(stateHash(replayByTransition(events))).toBe(hash);
        expect(stateOf(replay(events))).toEqual(stateOf(snapshot));

        // A stored snapshot after k events, read back, plus the tail: the same state.
        const k = scenario.snapshotAt % states.length;
        const stored = parseTaskState(JSON.parse(canonicalJson(states[k]!)));
        expect(stateHash(stored)).toBe(stateHash(states[k]!));
        const rehydrated = snapshotFromState(stored);
        expect(stateHash(replay(events.slice(k), rehydrated))).toBe(hash);
        expect(stateHash(replayByTransition(events.slice(k), rehydrated))).toBe(hash);
        // replay() works on a copy: the snapshot it started from is unchanged.
        expect(stateHash(rehydrated)).toBe(stateHash(states[k]!));
      }),
      { numRuns: 100 },
    );
  });
});

describe('random histories with the default policy', () => {
  it('replay to the same hash', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { events, snapshot } = live(scenario, { policy: DEFAULT_POLICY, assign: OPTIONS.assign });
        expect(stateHash(replay(events))).toBe(stateHash(snapshot));
      }),
      { numRuns: 50 },
    );
  });
});

afterAll(() => {
  // The generator must reach every kind of event and mostly produce valid commands, or the
  // properties above would hold vacuously.
  expect([...seen].sort()).toEqual([...TASK_EVENT_TYPES].sort());
  expect(totalEvents).toBeGreaterThan(totalRefused);
});
