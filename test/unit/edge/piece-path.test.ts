import { describe, expect, it } from 'vitest';
import { holdingsPath, parsePiecePath } from '../../../edge/pieces/index.ts';

const T = 'ab'.repeat(32);

describe('parsePiecePath', () => {
  it('reads a piece request, a holdings request and a watch', () => {
    expect(parsePiecePath(`/pieces/${T}/7`)).toEqual({ kind: 'piece', taskId: T, piece: 7 });
    expect(parsePiecePath(`/pieces/${T}/7?after=x`)).toEqual({ kind: 'piece', taskId: T, piece: 7 });
    expect(parsePiecePath(`/pieces/${T}`)).toEqual({ kind: 'holdings', taskId: T, watch: false });
    expect(parsePiecePath(`/pieces/${T}?`)).toEqual({ kind: 'holdings', taskId: T, watch: false });
    expect(parsePiecePath(`/pieces/${T}?watch`)).toEqual({ kind: 'holdings', taskId: T, watch: true });
  });

  it('refuses any other query on a holdings path with a 400, and unknown paths as before', () => {
    for (const q of ['watch=1', 'watch&watch', 'after=1', 'waitMs=500', 'foo', 'watch#x', '%77atch']) {
      expect(parsePiecePath(`/pieces/${T}?${q}`), q).toMatchObject({ kind: 'refused', code: 'DF_ERR_VALIDATION' });
    }
    for (const path of [`/pieces/${T}/`, `/pieces/${T.toUpperCase()}`, `/pieces/${T}x`, `/pieces/%${T}`, '/pieces/']) {
      expect(parsePiecePath(path), path).toMatchObject({ kind: 'refused', code: 'DF_ERR_VALIDATION', detail: expect.stringContaining('[?watch]') });
    }
    expect(parsePiecePath(`/other/${T}`)).toMatchObject({ kind: 'refused', code: 'DF_ERR_NOT_FOUND' });
  });

  it('holdingsPath writes what parsePiecePath reads', () => {
    expect(holdingsPath(T)).toBe(`/pieces/${T}`);
    expect(holdingsPath(T, { watch: true })).toBe(`/pieces/${T}?watch`);
    for (const watch of [false, true]) expect(parsePiecePath(holdingsPath(T, { watch }))).toEqual({ kind: 'holdings', taskId: T, watch });
  });
});
