import { describe, expect, it } from 'vitest';
import { finishChecksum, internetChecksum, onesSum } from '../../net/checksum.js';
import { TXD_POPTS_TXSM } from './e1000-regs.js';
import { emptyContext, insertChecksum, segment } from './tx-offload.js';

describe('insertChecksum', () => {
  it('sums css..cse inclusive and leaves bytes after cse out', () => {
    const buf = Uint8Array.from({ length: 40 }, (_, i) => (i * 13) & 0xff);
    buf[10] = 0;
    buf[11] = 0;
    insertChecksum(buf, buf.length, 4, 10, 29);
    expect(internetChecksum(buf, 4, 26)).toBe(0);
    expect(internetChecksum(buf, 4, 36)).not.toBe(0);
  });

  it('writes a computed zero as 0xFFFF (zero means "no checksum" to UDP)', () => {
    // Two words summing to 0xFFFF: the checksum of them is 0.
    const buf = Uint8Array.of(0x12, 0x34, 0xed, 0xcb, 0, 0);
    insertChecksum(buf, 4, 0, 4, 0);
    expect(Array.from(buf.subarray(4))).toEqual([0, 0]);
    const withField = Uint8Array.of(0x12, 0x34, 0xed, 0xcb, 0, 0);
    insertChecksum(withField, 6, 0, 4, 0);
    expect(Array.from(withField.subarray(4))).toEqual([0xff, 0xff]);
  });

  it('ignores a checksum offset past the frame', () => {
    const buf = new Uint8Array(20).fill(7);
    insertChecksum(buf, 20, 0, 19, 0);
    expect(buf.every((b) => b === 7)).toBe(true);
  });
});

describe('segment', () => {
  it('refuses a context without header length or MSS', () => {
    const ctx = emptyContext();
    expect(segment(new Uint8Array(100), 100, ctx, 0, new Uint8Array(2000), () => {})).toBe(0);
    ctx.hdrLen = 54;
    expect(segment(new Uint8Array(100), 100, ctx, 0, new Uint8Array(2000), () => {})).toBe(0);
  });

  it('UDP over IPv6: payload length per segment, UDP length and checksum', () => {
    // Ethernet (14) + IPv6 (40) + UDP (8) = 62 header bytes.
    const hdr = 62;
    const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) & 0xff);
    const pkt = new Uint8Array(hdr + payload.length);
    pkt[12] = 0x86;
    pkt[13] = 0xdd;
    pkt[14] = 0x60;
    pkt[20] = 17;
    pkt[21] = 64;
    for (let i = 0; i < 32; i++) pkt[22 + i] = i + 1;
    pkt.set(payload, hdr);
    // The driver's part: the pseudo-header sum without the length, in the checksum field.
    let pseudo = onesSum(pkt, 22, 32, 17);
    while (pseudo > 0xffff) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
    pkt[60] = pseudo >>> 8;
    pkt[61] = pseudo & 0xff;
    const ctx = { ...emptyContext(), ipcss: 14, tucss: 54, tucso: 60, hdrLen: hdr, mss: 1000, ip: false, tcp: false, tse: true };
    const frames: Uint8Array[] = [];
    const n = segment(pkt, pkt.length, ctx, TXD_POPTS_TXSM, new Uint8Array(2000), (f) => frames.push(f.slice()));
    expect(n).toBe(3);
    for (const f of frames) {
      expect((f[18] << 8) | f[19]).toBe(f.length - 54);
      expect((f[58] << 8) | f[59]).toBe(f.length - 54);
      // Verify with the IPv6 pseudo-header: addresses, length, next header.
      const l4Len = f.length - 54;
      const sum = onesSum(f, 22, 32, l4Len + 17);
      expect(finishChecksum(onesSum(f, 54, l4Len, sum))).toBe(0);
    }
    expect(frames.map((f) => f.subarray(hdr)).reduce((a, b) => Uint8Array.from([...a, ...b]))).toEqual(payload);
  });
});
