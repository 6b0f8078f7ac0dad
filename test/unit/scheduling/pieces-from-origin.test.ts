import { describe, expect, it } from 'vitest';
import { piecesFromOrigin } from '../../../core/scheduling/pieces-from-origin.ts';
import { buildState } from './fixtures.ts';

const range = (n: number) => Array.from({ length: n }, (_, p) => p);

describe('piecesFromOrigin', () => {
  it('is nothing while the CDN holds every piece (the first owner, seed complete)', () => {
    const state = buildState({ pieceCount: 4, peers: [{ id: 'r' }] });
    expect(piecesFromOrigin(state)).toEqual([]);
    expect(piecesFromOrigin({ ...state, status: 'seeded' })).toEqual([]);
  });

  it('is every piece never seeded, while the seed runs', () => {
    const state = buildState({ pieceCount: 5, seeded: [0, 1], peers: [] });
    expect(piecesFromOrigin(state)).toEqual([2, 3, 4]);
  });

  it('after a takeover: only pieces no serving peer holds and some active peer lacks', () => {
    // The new owner's CDN holds piece 5; a (active) holds 0-1, done (succeeded) holds 2,
    // gone (left) holds 3, which therefore counts for nothing; r lacks everything.
    const state = buildState({
      pieceCount: 7,
      cdnHeld: [5],
      peers: [
        { id: 'a', have: [0, 1] },
        { id: 'done', status: 'succeeded', have: [2] },
        { id: 'gone', status: 'left', have: [3] },
        { id: 'r' },
      ],
    });
    expect(piecesFromOrigin({ ...state, status: 'seeded' })).toEqual([3, 4, 6]);
  });

  it('leaves pieces nobody needs: every active peer holds them, or no peer is active', () => {
    const allHave = buildState({ pieceCount: 3, cdnHeld: [], peers: [{ id: 'a', have: range(3) }, { id: 'b', status: 'left', have: [] }] });
    expect(piecesFromOrigin(allHave)).toEqual([]);
    const nobody = buildState({ pieceCount: 3, cdnHeld: [], peers: [{ id: 'left', status: 'left' }] });
    expect(piecesFromOrigin(nobody)).toEqual([]);
    // A newcomer that lacks them makes them needed again.
    const newcomer = buildState({ pieceCount: 3, cdnHeld: [], peers: [{ id: 'left', status: 'left' }, { id: 'new' }] });
    expect(piecesFromOrigin(newcomer)).toEqual([0, 1, 2]);
  });

  it('is nothing for a task that is not being distributed', () => {
    const state = buildState({ pieceCount: 3, seeded: [], peers: [{ id: 'r' }] });
    for (const status of ['created', 'failed', 'evicted', 'absent'] as const) expect(piecesFromOrigin({ ...state, status })).toEqual([]);
  });
});
