import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { patternBytes } from '../../../test/support/net/fake-clock.js';
import { GATEWAY_IP, Harness } from '../../../test/support/net/harness.js';

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('TcpEngine with a fake guest', () => {
  it('moves data both ways over a clean link and closes', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    const up = patternBytes(300_000, 1);
    const down = patternBytes(500_000, 2);
    sock.write(up);
    sock.shutdown();
    const host = h.streams[0];
    host.send(down, true);
    h.run(() => sock.closedCleanly && host.ended && h.engine.stats().connections === 0, 20_000, 'close');
    expect(host.received.digest('hex')).toBe(sha(up));
    expect(sock.received.digest('hex')).toBe(sha(down));
    expect(h.guest.badChecksums).toBe(0);
  });
});
