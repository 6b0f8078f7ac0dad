import { describe, expect, it } from 'vitest';
import { canonicalJson, parseTaskState, snapshotFromState, stateHash } from '../../../../core/task/index.ts';
import { join, run, seedingTask } from './fixtures.ts';

describe('canonicalJson', () => {
  it('sorts object keys at every depth, keeps array order, leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: null, y: 'x' }], c: undefined } })).toBe('{"a":{"d":[3,1,{"y":"x","z":null}]},"b":1}');
  });

  it('is the same text whatever order the keys were inserted in', () => {
    const s = run([join('b'), join('a')], seedingTask(3)).state;
    const reordered = { ...s, peers: new Map([['a', s.peers.get('a')!], ['b', s.peers.get('b')!]]) };
    expect([...reordered.peers.keys()]).not.toEqual([...s.peers.keys()]);
    expect(canonicalJson(reordered)).toBe(canonicalJson(s));
  });

  it('round-trips a state through JSON unchanged', () => {
    const s = run([join('a'), { type: 'Round', at: 20, peerId: 'a', ok: [], failed: [], want: 2 }], seedingTask(3)).state;
    expect(canonicalJson(parseTaskState(canonicalJson(s)))).toBe(canonicalJson(s));
  });
});

describe('stateHash', () => {
  it('is a sha256 hex, equal for a state and its snapshot, different for any change', () => {
    const s = seedingTask(3);
    expect(stateHash(s)).toMatch(/^[0-9a-f]{64}$/);
    expect(stateHash(snapshotFromState(s))).toBe(stateHash(s));
    expect(stateHash({ ...s, cdnServed: 1 })).not.toBe(stateHash(s));
    expect(stateHash({ ...s, availability: [0, 0, 1] })).not.toBe(stateHash(s));
  });
});

describe('parseTaskState', () => {
  it('refuses a snapshot that is not JSON or does not fit the state', () => {
    const code = { code: 'DF_ERR_MALFORMED_SNAPSHOT' };
    expect(() => parseTaskState('{')).toThrowError(expect.objectContaining(code));
    expect(() => parseTaskState({ ...seedingTask(2), availability: [-1, 0] })).toThrowError(expect.objectContaining(code));
    expect(() => parseTaskState({ ...seedingTask(2), status: 'running' })).toThrowError(expect.objectContaining(code));
  });
});
