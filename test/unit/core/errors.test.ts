import { describe, expect, it } from 'vitest';
import { DamselflyError, ErrorCodes, isDamselflyError } from '../../../core/errors.ts';

describe('error catalogue', () => {
  it('gives every code an HTTP error status and a title', () => {
    for (const [code, spec] of Object.entries(ErrorCodes)) {
      expect(code).toMatch(/^DF_ERR_[A-Z_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.title.length).toBeGreaterThan(0);
    }
  });

  it('builds errors that carry code, status, detail and retryability', () => {
    const e = new DamselflyError('DF_ERR_VERSION_CONFLICT', 'stream t at 4, expected 3');
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: 'DF_ERR_VERSION_CONFLICT', status: 409, retryable: true, detail: 'stream t at 4, expected 3' });
    expect(new DamselflyError('DF_ERR_STALE_EPOCH').retryable).toBe(false);
    expect(isDamselflyError(e, 'DF_ERR_VERSION_CONFLICT')).toBe(true);
    expect(isDamselflyError(e, 'DF_ERR_NOT_FOUND')).toBe(false);
    expect(isDamselflyError(new Error('x'))).toBe(false);
  });
});
