import { describe, expect, it } from 'vitest';
import { holdingsPath, parsePiecePath } from '../../../edge/pieces/index.ts';

const T = 'ab'.repeat(32);

describe('parsePiecePath', () => {
  it('reads a piece request and a holdings request, with the holdings defaults', () => {
    expect(parsePiecePath(`/pieces/${T}/7`)).toEqual({ kind: 'piece', taskId: T, piece: 7 });
    expect(parsePiecePath(`/pieces/${T}/7?after=x`)).toEqual({ kind: 'piece', taskId: T, piece: 7 });
    expect(parsePiecePath(`/pieces/${T}`)).toEqual({ kind: 'holdings', taskId: T, after: -1, waitMs: 0 });
    expect(parsePiecePath(`/pieces/${T}?`)).toEqual({ kind: 'holdings', taskId: T, after: -1, waitMs: 0 });
    expect(parsePiecePath(`/pieces/${T}?after=12&waitMs=500`)).toEqual({ kind: 'holdings', taskId: T, after: 12, waitMs: 500 });
    expect(parsePiecePath(`/pieces/${T}?waitMs=0&after=0`)).toEqual({ kind: 'holdings', taskId: T, after: 0, waitMs: 0 });
  });

  it('caps waitMs at 30 s rather than refusing it', () => {
    expect(parsePiecePath(`/pieces/${T}?after=1&waitMs=999999999`)).toEqual({ kind: 'holdings', taskId: T, after: 1, waitMs: 30_000 });
  });

  it('refuses any other query on a holdings path with a 400, and unknown paths as before', () => {
    for (const q of ['after=-1', 'after=01', 'after=1.5', 'after=', 'after', 'waitMs=abc', 'after=1&after=2', 'foo=1', 'after=1&', '&after=1', 'after=%31', 'after=1#x', 'after=9999999999']) {
      expect(parsePiecePath(`/pieces/${T}?${q}`), q).toMatchObject({ kind: 'refused', code: 'DF_ERR_VALIDATION' });
    }
    for (const path of [`/pieces/${T}/`, `/pieces/${T.toUpperCase()}`, `/pieces/${T}x`, `/pieces/%${T}`, '/pieces/']) {
      expect(parsePiecePath(path), path).toMatchObject({ kind: 'refused', code: 'DF_ERR_VALIDATION', detail: expect.stringContaining('?after=') });
    }
    expect(parsePiecePath(`/other/${T}`)).toMatchObject({ kind: 'refused', code: 'DF_ERR_NOT_FOUND' });
  });

  it('holdingsPath writes what parsePiecePath reads', () => {
    expect(holdingsPath(T)).toBe(`/pieces/${T}`);
    expect(holdingsPath(T, { after: -1, waitMs: 0 })).toBe(`/pieces/${T}`);
    expect(holdingsPath(T, { after: 4, waitMs: 2000 })).toBe(`/pieces/${T}?after=4&waitMs=2000`);
    for (const q of [{ after: -1, waitMs: 10 }, { after: 0, waitMs: 0 }, { after: 9, waitMs: 30_000 }]) {
      expect(parsePiecePath(holdingsPath(T, q))).toEqual({ kind: 'holdings', taskId: T, ...q });
    }
  });
});
