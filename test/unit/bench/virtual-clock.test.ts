import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../bench/simulate/virtual-clock.ts';

describe('VirtualClock', () => {
  it('runs timers in time order, equal times in the order they were set, and nested ones too', () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const delays = [50, 10, 30, 10, 70, 0, 30, 90, 20, 60];
    delays.forEach((ms, i) => clock.after(ms, () => seen.push(`${ms}:${i}`)));
    clock.after(15, () => clock.after(10, () => seen.push(`25:nested@${clock.now()}`)));
    expect(clock.run()).toBe(90);
    expect(seen).toEqual(['0:5', '10:1', '10:3', '20:8', '25:nested@25', '30:2', '30:6', '50:0', '60:9', '70:4', '90:7']);
  });

  it('stops when asked', () => {
    const clock = new VirtualClock();
    let n = 0;
    for (let i = 1; i <= 10; i++) clock.after(i, () => n++);
    expect(clock.run(() => n === 4)).toBe(4);
  });
});
