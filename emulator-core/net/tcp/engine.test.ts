import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { patternBytes } from '../../../test/support/net/fake-clock.js';
import { ACK, RST, SYN, build, parse } from '../../../test/support/net/fake-guest.js';
import { GATEWAY_IP, GUEST_IP, Harness } from '../../../test/support/net/harness.js';
import type { MemoryHostStream } from '../../../test/support/net/memory-stream.js';

const MiB = 1024 * 1024;
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('TcpEngine: data transfer', () => {
  it('moves 4 MiB each way with matching SHA-256 under 5% loss and reordering', () => {
    const h = new Harness({ wire: { loss: 0.05, reorder: 0.1, delayMs: 2, seed: 7 } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 30_000, 'handshake');
    const up = patternBytes(4 * MiB, 1);
    const down = patternBytes(4 * MiB, 2);
    sock.write(up);
    sock.shutdown();
    const host = h.streams[0];
    host.send(down, true);
    h.run(() => sock.closedCleanly && host.ended && h.engine.stats().connections === 0, 600_000, 'both transfers and the close');
    expect(host.bytesAtEnd).toBe(up.length);
    expect(host.received.digest('hex')).toBe(sha(up));
    expect(sock.receivedBytes).toBe(down.length);
    expect(sock.received.digest('hex')).toBe(sha(down));
    const stats = h.engine.stats();
    expect(stats.retransmits).toBeGreaterThan(0);
    expect(stats.bytesToGuest).toBe(down.length);
    expect(stats.bytesFromGuest).toBe(up.length);
    expect(h.guest.badChecksums).toBe(0);
  });

  it.each([21, 22, 23])('survives loss, reordering and duplicated segments together (seed %i)', (seed) => {
    const h = new Harness({ wire: { loss: 0.05, reorder: 0.1, duplicate: 0.03, delayMs: 3, seed } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 30_000, 'handshake');
    const up = patternBytes(512 * 1024, seed);
    const down = patternBytes(768 * 1024, seed + 100);
    sock.write(up);
    sock.shutdown();
    h.streams[0].send(down, true);
    h.run(() => sock.closedCleanly && h.streams[0].ended && h.engine.stats().connections === 0, 300_000, 'transfers and close');
    expect(h.streams[0].received.digest('hex')).toBe(sha(up));
    expect(sock.received.digest('hex')).toBe(sha(down));
    expect(h.streams[0].destroyed).toBe(false);
  });

  it('keeps sequence arithmetic right across 2^32 in both directions', () => {
    const h = new Harness({
      wire: { loss: 0.02, reorder: 0.05, seed: 3 },
      engine: { initialSequence: () => 0xffffffff - 20_000 },
      guest: { iss: () => 0xffffffff - 30_000 },
    });
    const sock = h.guest.connect(GATEWAY_IP, 443);
    h.run(() => sock.established, 30_000, 'handshake');
    const up = patternBytes(MiB, 11);
    const down = patternBytes(MiB, 12);
    sock.write(up);
    sock.shutdown();
    h.streams[0].send(down, true);
    h.run(() => sock.closedCleanly && h.streams[0].ended && h.engine.stats().connections === 0, 300_000, 'transfer over the wrap');
    expect(h.streams[0].received.digest('hex')).toBe(sha(up));
    expect(sock.received.digest('hex')).toBe(sha(down));
  });

  it('serves 200 connections at once, each moving data both ways', () => {
    const h = new Harness({ wire: { loss: 0.01, reorder: 0.02, seed: 5 } });
    const n = 200;
    const socks = Array.from({ length: n }, (_, i) => h.guest.connect(GATEWAY_IP, 8000 + (i % 7)));
    h.run(() => socks.every((s) => s.established) && h.streams.length === n, 60_000, 'all handshakes');
    expect(h.engine.stats().connections).toBe(n);
    const ups = socks.map((_, i) => patternBytes(32 * 1024 + i * 97, 1000 + i));
    const downs = socks.map((_, i) => patternBytes(48 * 1024 + i * 131, 2000 + i));
    const streams = socks.map((s) => h.streamByGuestPort.get(s.localPort) as MemoryHostStream);
    socks.forEach((s, i) => {
      s.write(ups[i]);
      s.shutdown();
      streams[i].send(downs[i], true);
    });
    h.run(() => socks.every((s) => s.closedCleanly) && h.engine.stats().connections === 0, 300_000, 'all transfers');
    socks.forEach((s, i) => {
      expect(streams[i].received.digest('hex')).toBe(sha(ups[i]));
      expect(s.received.digest('hex')).toBe(sha(downs[i]));
    });
  });

  it('recovers a single lost segment by fast retransmit, well before a timeout', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    let dataSegments = 0;
    h.wire.dropToGuest = (seg) => parse(seg).data.length > 0 && ++dataSegments === 60;
    const down = patternBytes(MiB, 71);
    const start = h.clock.now();
    h.streams[0].send(down, true);
    h.run(() => sock.finReceived, 10_000, 'the download');
    expect(sock.received.digest('hex')).toBe(sha(down));
    expect(h.wire.dropped).toBe(1);
    expect(h.engine.stats().retransmits).toBe(1);
    expect(h.clock.now() - start).toBeLessThan(150); // the minimum RTO is 200 ms
  });

  it('keeps out-of-order guest segments, so one loss costs the guest one retransmission', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    let sent = 0;
    h.wire.dropToEngine = (seg) => parse(seg).data.length > 0 && ++sent === 30;
    const up = patternBytes(MiB, 72);
    sock.write(up);
    h.run(() => h.streams[0].receivedBytes === up.length, 10_000, 'the upload');
    expect(h.streams[0].received.digest('hex')).toBe(sha(up));
    // Without reassembly the guest would resend everything behind the hole (tens of segments).
    expect(sent - Math.ceil(up.length / 1460)).toBeLessThanOrEqual(4);
  });

  it('acknowledges every second full segment of an upload, and a lone one after a short delay', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    const outBefore = h.engine.stats().segmentsOut;
    const up = patternBytes(MiB, 81);
    sock.write(up);
    h.run(() => sock.bytesAcked === up.length, 10_000, 'the upload');
    const segments = Math.ceil(up.length / 1460);
    expect(h.engine.stats().segmentsOut - outBefore).toBeLessThan(segments * 0.6);
    const t = h.clock.now();
    sock.write(patternBytes(1460, 82));
    h.run(() => sock.bytesAcked === up.length + 1460, 100, 'the lone segment');
    expect(h.clock.now() - t).toBeLessThan(20);
  });

  it('offers an unscaled window of at most 65535 bytes to a guest that does not scale', () => {
    const h = new Harness({ guest: { windowScale: null } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    const up = patternBytes(MiB, 4);
    sock.write(up);
    sock.shutdown();
    h.streams[0].send(new Uint8Array(0), true);
    h.run(() => sock.closedCleanly && h.engine.stats().connections === 0, 60_000, 'transfer');
    expect(h.streams[0].received.digest('hex')).toBe(sha(up));
    expect(sock.maxPeerWindow).toBeLessThanOrEqual(0xffff);
    expect(sock.maxPeerWindow).toBeGreaterThan(32_000);
  });
});

describe('TcpEngine: flow control and memory bounds', () => {
  it('probes a guest that advertises a zero window and resumes when it opens', () => {
    const h = new Harness({ engine: { sendBufferBytes: 128 * 1024 }, guest: { receiveBuffer: 64 * 1024 } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    sock.reading = false; // the guest application stops reading
    sock.silentWindowOpen = true; // and later reopens without telling: only a probe finds out
    const host = h.streams[0];
    const down = patternBytes(2 * MiB, 21);
    host.send(down, true);
    let maxQueued = 0;
    const sample = (): void => {
      maxQueued = Math.max(maxQueued, host.bytesSent - sock.receivedBytes);
      h.clock.setTimeout(sample, 5);
    };
    sample();
    h.clock.advance(8000);
    // The guest's buffer, less what its window scaling (x128) rounds off.
    expect(sock.receivedBytes).toBeGreaterThan(64 * 1024 - 128);
    expect(sock.receivedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(sock.zeroWindowsAdvertised).toBeGreaterThan(0);
    expect(sock.probesSeen).toBeGreaterThanOrEqual(3);
    expect(host.paused).toBe(true);
    // Host data held in the engine: the send buffer plus at most one host chunk.
    expect(maxQueued).toBeLessThanOrEqual(128 * 1024 + 16 * 1024);
    sock.setReading(true);
    h.run(() => sock.finReceived, 60_000, 'the rest of the data');
    expect(sock.received.digest('hex')).toBe(sha(down));
  });

  it('holds at most the advertised window while the host reader is paused for seconds', () => {
    const window = 64 * 1024;
    const h = new Harness({ engine: { receiveWindowBytes: window } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    const host = h.streams[0];
    host.setAccepting(false);
    const up = patternBytes(4 * MiB, 31);
    sock.write(up);
    sock.shutdown();
    let maxInEngine = 0;
    let maxOutstanding = 0;
    const sample = (): void => {
      maxInEngine = Math.max(maxInEngine, sock.bytesAcked - host.receivedBytes);
      maxOutstanding = Math.max(maxOutstanding, sock.bytesSent - host.receivedBytes);
      h.clock.setTimeout(sample, 1);
    };
    sample();
    h.clock.advance(5000);
    expect(sock.minPeerWindow).toBe(0);
    expect(host.receivedBytes).toBeLessThan(2 * window);
    expect(host.writesWhileBlocked).toBe(0);
    expect(host.maxBacklog).toBeLessThanOrEqual(1460);
    expect(maxInEngine).toBeLessThanOrEqual(window);
    expect(maxOutstanding).toBeLessThanOrEqual(window);
    host.setAccepting(true);
    h.run(() => host.ended, 60_000, 'the upload after the reader resumes');
    expect(host.received.digest('hex')).toBe(sha(up));
    expect(host.writesWhileBlocked).toBe(0);
  });
});

describe('TcpEngine: opening and closing', () => {
  it('half-closes from the guest first while the host keeps sending', () => {
    const h = new Harness({ wire: { loss: 0.02, seed: 9 } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 10_000, 'handshake');
    const up = patternBytes(100_000, 41);
    sock.write(up);
    sock.shutdown();
    const host = h.streams[0];
    h.run(() => host.ended, 30_000, 'the guest FIN reaching the host');
    expect(host.received.digest('hex')).toBe(sha(up));
    expect(sock.finReceived).toBe(false);
    const down = patternBytes(MiB, 42);
    host.send(down, true);
    h.run(() => sock.closedCleanly && h.engine.stats().connections === 0, 60_000, 'the host data and FIN');
    expect(sock.received.digest('hex')).toBe(sha(down));
  });

  it('half-closes from the host first while the guest keeps sending', () => {
    const h = new Harness({ wire: { loss: 0.02, seed: 10 } });
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 10_000, 'handshake');
    const host = h.streams[0];
    const down = patternBytes(100_000, 51);
    host.send(down, true);
    h.run(() => sock.finReceived, 30_000, 'the host FIN reaching the guest');
    expect(sock.received.digest('hex')).toBe(sha(down));
    expect(host.ended).toBe(false);
    const up = patternBytes(MiB, 52);
    sock.write(up);
    sock.shutdown();
    h.run(() => sock.closedCleanly && host.ended && h.engine.stats().connections === 0, 60_000, 'the guest data and FIN');
    expect(host.received.digest('hex')).toBe(sha(up));
    expect(host.closed).toBe(true);
  });

  it('answers RST|ACK when the host refuses the port', () => {
    const h = new Harness({ refusedPorts: [81] });
    const sock = h.guest.connect(GATEWAY_IP, 81);
    h.run(() => sock.resetReceived, 5000, 'the RST');
    expect(h.connectCalls).toEqual([{ dstIp: GATEWAY_IP, dstPort: 81, srcIp: GUEST_IP, srcPort: sock.localPort }]);
    expect(h.engine.stats().connections).toBe(0);
  });

  it('waits for a slow connector without asking twice for retransmitted SYNs', () => {
    const h = new Harness({ slowPorts: [82] });
    const sock = h.guest.connect(GATEWAY_IP, 82);
    h.clock.advance(3500); // the guest retransmits its SYN meanwhile
    expect(h.connectCalls.length).toBe(1);
    expect(sock.established).toBe(false);
    const stream = h.newStream();
    h.pending[0].done(stream);
    h.run(() => sock.established, 10_000, 'the handshake after the connector answered');
    sock.write(patternBytes(1000, 1));
    h.run(() => stream.receivedBytes === 1000, 5000, 'data');
  });

  it('destroys the host stream when the guest resets the connection', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    h.streams[0].send(patternBytes(10_000, 1));
    h.clock.advance(50);
    sock.reset();
    h.run(() => h.streams[0].destroyed, 1000, 'destroy');
    expect(h.engine.stats().connections).toBe(0);
  });

  it('resets the guest when the host connection fails', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    h.streams[0].fail();
    h.run(() => sock.resetReceived, 1000, 'the RST');
    expect(h.engine.stats().connections).toBe(0);
  });

  it('answers keepalives and never expires an idle connection', () => {
    const h = new Harness();
    const sock = h.guest.connect(GATEWAY_IP, 80);
    h.run(() => sock.established, 1000, 'handshake');
    const before = h.engine.stats().segmentsOut;
    for (let i = 0; i < 100; i++) {
      h.clock.advance(75_000);
      sock.sendKeepalive();
    }
    h.clock.advance(1000);
    expect(h.engine.stats().segmentsOut - before).toBe(100); // one ACK per probe
    expect(h.engine.stats().connections).toBe(1);
    expect(sock.resetReceived).toBe(false);
    sock.write(patternBytes(5000, 2));
    h.run(() => h.streams[0].receivedBytes === 5000, 5000, 'data after two idle hours');
  });

  it('ignores segments with a bad checksum', () => {
    const h = new Harness();
    const syn = build(GUEST_IP, GATEWAY_IP, { srcPort: 1234, dstPort: 80, seq: 1, ack: 0, flags: SYN, window: 1000, mss: 1460 });
    syn[16] ^= 0x40;
    h.engine.input(GUEST_IP, GATEWAY_IP, syn);
    h.clock.advance(100);
    expect(h.connectCalls.length).toBe(0);
    expect(h.engine.stats().segmentsOut).toBe(0);
  });

  it('resets a stray segment that belongs to no connection', () => {
    const h = new Harness();
    h.logSegments = true;
    const stray = build(GUEST_IP, GATEWAY_IP, { srcPort: 1234, dstPort: 80, seq: 5, ack: 777, flags: ACK, window: 1000 });
    h.engine.input(GUEST_IP, GATEWAY_IP, stray);
    expect(h.toGuestLog.length).toBe(1);
    const rst = parse(h.toGuestLog[0]);
    expect(rst.flags).toBe(RST);
    expect(rst.seq).toBe(777);
  });
});

describe('TcpEngine: port forwarding (openToGuest)', () => {
  it('connects to a listening guest and carries data both ways', () => {
    const h = new Harness({ wire: { loss: 0.02, seed: 13 } });
    const down = patternBytes(MiB, 61);
    const up = patternBytes(MiB / 2, 62);
    h.guest.listen(22, (s) => {
      s.write(up);
      s.shutdown();
    });
    const stream = h.newStream();
    stream.send(down, true); // queued before the guest even answers
    h.engine.openToGuest(stream, GUEST_IP, 22, GATEWAY_IP, 50000);
    h.run(() => stream.ended && h.engine.stats().connections === 0, 120_000, 'the forwarded connection to finish');
    expect(stream.received.digest('hex')).toBe(sha(up));
    expect(stream.destroyed).toBe(false);
  });

  it('destroys the stream when the guest answers RST', () => {
    const h = new Harness();
    h.guest.close(23, 'refuse');
    const stream = h.newStream();
    h.engine.openToGuest(stream, GUEST_IP, 23, GATEWAY_IP, 50001);
    h.run(() => stream.destroyed, 100, 'destroy');
    expect(h.engine.stats().connections).toBe(0);
  });

  it('gives up after a few seconds of SYNs the guest never answers', () => {
    const h = new Harness();
    h.guest.close(24, 'ignore');
    h.logSegments = true;
    const stream = h.newStream();
    h.engine.openToGuest(stream, GUEST_IP, 24, GATEWAY_IP, 50002);
    h.clock.advance(2500);
    expect(stream.destroyed).toBe(false);
    h.run(() => stream.destroyed, 10_000, 'give up');
    expect(h.clock.now()).toBeLessThan(10_000);
    const syns = h.toGuestLog.map(parse).filter((s) => s.flags === SYN);
    expect(syns.length).toBeGreaterThanOrEqual(3);
    expect(h.engine.stats().connections).toBe(0);
  });
});

describe('TcpEngine: close', () => {
  it('destroys every stream and stops its timers', () => {
    const h = new Harness();
    const socks = [h.guest.connect(GATEWAY_IP, 80), h.guest.connect(GATEWAY_IP, 81)];
    h.run(() => socks.every((s) => s.established), 1000, 'handshakes');
    socks[0].reading = false;
    h.streams[0].send(patternBytes(MiB, 1)); // leaves a persist timer running
    h.clock.advance(3000);
    h.engine.close();
    expect(h.streams.every((s) => s.destroyed)).toBe(true);
    expect(h.engine.stats().connections).toBe(0);
    h.logSegments = true;
    h.clock.advance(60_000);
    expect(h.toGuestLog.length).toBe(0);
  });
});
