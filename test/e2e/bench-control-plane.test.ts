import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { DAMSELFLY_BIN } from '../../bench/processes.ts';
import { linkBoundSeconds } from '../../bench/control-plane/control-plane-command.ts';

function run(args: string[]) {
  return spawnSync(process.execPath, [DAMSELFLY_BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DAMSELFLY_DATABASE_URL: '', DAMSELFLY_KAFKA_BROKERS: '' },
    timeout: 120_000,
  });
}

/** `damselfly bench control-plane`: simulated peers against a real supernode process. */
describe('damselfly bench control-plane', () => {
  it.each(['sync', 'rounds'])('finishes every simulated peer on the %s protocol and prints its figures as JSON', (protocol) => {
    const r = run(['bench', 'control-plane', '--peers', '12', '--tasks', '2', '--size', '2MiB', '--piece-ms', '50', '--protocol', protocol, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    // Every peer got every piece exactly once: nothing failed, nothing was assigned twice.
    expect(out.pieceCount).toBe(8);
    expect(out.pieceTransfers).toBe(12 * 8);
    expect(out.errors).toBe(0);
    expect(out.protocol).toBe(protocol);
    // More than the two tasks' creation and seeding alone: the rounds (syncs) were events too.
    expect(out.events).toBeGreaterThan(2 * (2 + 8));
    expect(out.rounds).toBeGreaterThanOrEqual(12);
    expect(out.roundP99Ms).toBeGreaterThanOrEqual(out.roundP50Ms!);
    // Every peer was let in before any finished, and the first finished before the last.
    expect(out.firstAnswerMaxMs).toBeGreaterThanOrEqual(out.firstAnswerP50Ms!);
    expect(out.firstAnswerP50Ms).toBeGreaterThan(0);
    expect(out.firstDoneSeconds).toBeGreaterThan(0);
    expect(out.firstDoneSeconds).toBeLessThanOrEqual(out.seconds!);
    expect(out.ratioToLinkBound).toBeGreaterThanOrEqual(1);
    expect(out.supernodeCpuSeconds).toBeGreaterThan(0);
  });

  it('refuses a bad flag with exit code 2', () => {
    const r = run(['bench', 'control-plane', '--peers', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bench control-plane: --peers/);
    const p = run(['bench', 'control-plane', '--protocol', 'pieces']);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/bench control-plane: --protocol/);
  });
});

/** `damselfly bench simulate`: the same swarm in virtual time, no processes. */
describe('damselfly bench simulate', () => {
  it('prints the ratio, the rates and the supernode CPU a swarm needs as JSON', () => {
    const r = run(['bench', 'simulate', '--peers', '300', '--pieces', '64', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    expect(out.transfers).toBe(300 * 64);
    expect(out.ratioToLinkBound).toBeGreaterThanOrEqual(1);
    expect(out.requests).toBeGreaterThanOrEqual(600);
    expect(out.eventsPerSecond).toBeGreaterThan(0);
    expect(out.supernodeCores).toBeGreaterThan(0);
    expect(out.replicas).toBeGreaterThanOrEqual(1);
    // Answered at once: every peer's first answer comes one round trip after its join.
    expect(out.firstAnswerMaxMs).toBeLessThan(10);
  });

  it('queues the requests on one event loop with --one-loop: the 300 joins take 300 × --request-ms to answer', () => {
    const r = run(['bench', 'simulate', '--peers', '300', '--pieces', '64', '--one-loop', '--request-ms', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, number | boolean>;
    expect(out.oneLoop).toBe(true);
    expect(out.firstAnswerMaxMs).toBeGreaterThanOrEqual(300);
    expect(out.firstAnswerP50Ms).toBeGreaterThanOrEqual(150);
    expect(out.transfers).toBe(300 * 64);
  });

  it('relays the simulated task\'s events through PostgreSQL and Kafka, and both replays reach its state hash', () => {
    const r = run(['bench', 'simulate', '--peers', '100', '--pieces', '32', '--relay', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const relay = (JSON.parse(r.stdout) as { relay: Record<string, number | boolean> }).relay;
    expect(relay.replayFromPostgres).toBe(true);
    expect(relay.replayFromKafka).toBe(true);
    expect(relay.eventsPerSecond).toBeGreaterThan(0);
  });

  it('refuses a bad flag with exit code 2', () => {
    const r = run(['bench', 'simulate', '--pieces', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bench simulate: --pieces/);
  });
});

describe('linkBoundSeconds', () => {
  it('is the slower of downloads (parallelism) and uploads (slots)', () => {
    // 1 peer: 8 pieces, 6 at a time, 100 ms each → 8·100/6 ms; uploads (CDN's 8 slots) allow more.
    expect(linkBoundSeconds({ peers: 1, tasks: 1, pieceCount: 8, pieceMs: 100, parallelism: 6 })).toBeCloseTo(0.8 / 6);
    // 100 peers with 64 in flight each: 4 upload slots a peer (+ the CDN's 8) are the limit.
    expect(linkBoundSeconds({ peers: 100, tasks: 1, pieceCount: 10, pieceMs: 100, parallelism: 64 })).toBeCloseTo((100 * 10 * 0.1) / 408);
  });
});
