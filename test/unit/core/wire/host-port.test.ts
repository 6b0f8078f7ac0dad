import { describe, expect, it } from 'vitest';
import { HostPort } from '../../../../core/wire/fields.ts';
import { isHostPort } from '../../../../core/wire/host-port.ts';
import { JoinRequest } from '../../../../core/wire/peer-api.ts';

describe('host:port (a peer address, a supernode, a broker)', () => {
  it('takes what a client can dial', () => {
    for (const ok of ['a:1', 'localhost:8002', 'kafka_1:9092', 'node-7.cluster.local:65535', '127.0.0.1:80', '0.0.0.0:1', '[::1]:80', '[::]:1', '[2001:db8::42]:6000', '[1:2:3:4:5:6:7:8]:9', '[1:2:3:4:5:6:7::]:1', '[::ffff:192.0.2.1]:5', '[1:2:3:4:5:6:1.2.3.4]:7']) {
      expect(isHostPort(ok), ok).toBe(true);
    }
  });

  it('refuses what does not parse', () => {
    const bad = [
      '[[[:::99999', '[[[:::9999', '[:::]:3', '[1::2:]:3', '[1::2::3]:4', '[1:2:3:4:5:6:7:8::]:1', '[1:2:3:4:5:6:7]:1', '[12345::]:1', '[1.2.3.4::]:5', '[fe80::1%eth0]:1', '[::1:80', '::1:80',
      'a:0', 'a:65536', 'a:01', 'a:', ':80', 'a', 'a:80x',
      '1.2.3:4', '01.2.3.4:5', '256.1.1.1:2', '1.2.3.4.5:6',
      '-a:1', 'a-:1', 'a..b:1', '.a:1', `${'a'.repeat(64)}:1`, 'a b:1', 'a/b:1',
    ];
    for (const value of bad) expect(isHostPort(value), value).toBe(false);
    expect(HostPort.safeParse('[[[:::99999').success).toBe(false);
  });

  it('names the field when a join declares an address that does not parse', () => {
    const parsed = JoinRequest.safeParse({ peerId: 'p', hostId: 'h', address: '[[[:::99999' });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['address']);
  });
});
