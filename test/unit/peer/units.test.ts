import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSize } from '../../../edge/units/parse-size.ts';
import { parseDuration } from '../../../edge/units/parse-duration.ts';

describe('parseSize', () => {
  it('reads binary suffixes, long and short, and plain bytes', () => {
    expect(parseSize('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseSize('2MiB')).toBe(2 * 1024 * 1024);
    expect(parseSize('512KiB')).toBe(512 * 1024);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('20M')).toBe(20 * 1024 * 1024);
    expect(parseSize('20m')).toBe(20 * 1024 * 1024);
    expect(parseSize('3K')).toBe(3072);
    expect(parseSize('1.5MiB')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('12345')).toBe(12345);
    expect(parseSize(' 7 KiB ')).toBe(7 * 1024);
    expect(parseSize(4096)).toBe(4096);
  });

  it('throws a one-line error naming the input for anything else', () => {
    for (const bad of ['', 'MiB', '-1', '10 XB', '1e6', '0x10', '5 MiB/s', 'twenty']) {
      expect(() => parseSize(bad), bad).toThrow(new RegExp(`invalid size "${bad.replace(/[/]/g, '\\/')}"`));
    }
    expect(() => parseSize('99999999999TiB')).toThrow(/too large/);
    expect(() => parseSize(-3)).toThrow(/invalid size/);
  });

  it('round-trips any whole number of any unit', () => {
    const units = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...Object.keys(units)), (n, unit) => {
        expect(parseSize(`${n}${unit}`)).toBe(n * units[unit as keyof typeof units]);
      }),
    );
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations and plain milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250')).toBe(250);
  });

  it('refuses anything else with the input in the message', () => {
    for (const bad of ['', 's', '10 s', '-5s', '3d', 'soon']) expect(() => parseDuration(bad), bad).toThrow(/invalid duration/);
  });
});
