import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { patternBytes, seededRandom } from '../../../test/support/net/fake-clock.js';
import type { GuestSocket } from '../../../test/support/net/fake-guest.js';
import { GATEWAY_IP, GUEST_IP, Harness } from '../../../test/support/net/harness.js';
import type { MemoryHostStream } from '../../../test/support/net/memory-stream.js';

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * Random mixes of link faults, window sizes, MSS, scaling, sequence starts, who closes
 * first, port forwards, and a guest reader and host reader that stop and start. Seeds 118
 * and 1386 once found real bugs (an ACK beyond snd.max after a long retransmission; an RST
 * for a FIN retransmitted after a too-short TIME_WAIT).
 */
function scenario(seed: number): void {
  const r = seededRandom(seed * 7919);
  const forward = r() < 0.3;
  const h = new Harness({
    wire: { loss: r() * 0.1, reorder: r() * 0.2, duplicate: r() * 0.05, delayMs: 1 + r() * 5, seed },
    guest: {
      windowScale: r() < 0.3 ? null : Math.floor(r() * 9),
      mss: r() < 0.3 ? 536 : 1460,
      receiveBuffer: 8192 + Math.floor(r() * 300_000),
      iss: () => (r() * 2 ** 32) >>> 0,
    },
    engine: {
      initialSequence: () => (r() * 2 ** 32) >>> 0,
      receiveWindowBytes: 2000 + Math.floor(r() * 200_000),
      sendBufferBytes: 1000 + Math.floor(r() * 300_000),
    },
  });
  const up = patternBytes(Math.floor(r() * 400_000), seed);
  const down = patternBytes(Math.floor(r() * 400_000), seed + 1);
  const guestFirst = r() < 0.5;
  let accepted: GuestSocket | null = null;
  let stream: MemoryHostStream;
  if (forward) {
    h.guest.listen(22, (s) => (accepted = s));
    stream = h.newStream();
    h.engine.openToGuest(stream, GUEST_IP, 22, GATEWAY_IP, 50000);
    h.run(() => accepted !== null, 60_000, `accept (seed ${seed})`);
  } else {
    const s = h.guest.connect(GATEWAY_IP, 80);
    accepted = s;
    h.run(() => s.established && h.streams.length > 0, 60_000, `handshake (seed ${seed})`);
    stream = h.streams[0];
  }
  const guest = accepted as unknown as GuestSocket;
  // The guest application and the host reader stop and start at random for 400 s.
  const stir = (): void => {
    if (r() < 0.5) guest.setReading(r() < 0.6);
    else stream.setAccepting(r() < 0.6);
    h.clock.setTimeout(stir, r() * 2000);
  };
  stir();
  if (guestFirst) {
    guest.write(up);
    guest.shutdown();
    stream.send(down, true);
  } else {
    stream.send(down, true);
    guest.write(up);
    guest.shutdown();
  }
  const done = (): boolean => {
    if (h.clock.now() > 400_000) {
      guest.setReading(true);
      stream.setAccepting(true);
    }
    return guest.closedCleanly && stream.ended && h.engine.stats().connections === 0;
  };
  expect(h.clock.runUntil(done, 900_000), `clean close, seed ${seed}`).toBe(true);
  expect(stream.received.digest('hex'), `upload, seed ${seed}`).toBe(sha(up));
  expect(guest.received.digest('hex'), `download, seed ${seed}`).toBe(sha(down));
  expect(stream.writesWhileBlocked, `writes after false, seed ${seed}`).toBe(0);
  expect(stream.destroyed || guest.resetReceived, `reset, seed ${seed}`).toBe(false);
}

describe('TcpEngine under random conditions', () => {
  it('completes every transfer and closes cleanly', () => {
    for (const seed of [118, 1386, ...Array.from({ length: 30 }, (_, i) => i + 1)]) scenario(seed);
  });
});
