import { describe, expect, it } from 'vitest';
import { IoBus } from '../../bus/io-bus.js';
import { BadInputError } from '../../errors.js';
import { ManualClock } from '../../machine/clock.js';
import type { MachineControl } from '../../machine/control.js';
import { TimerQueue } from '../../machine/timers.js';
import { GuestMemory } from '../../memory/guest-memory.js';
import { finishChecksum, internetChecksum, onesSum, pseudoHeaderSum } from '../../net/checksum.js';
import type { NetBackend, NetPort } from '../../net/link.js';
import { PciBus } from '../pci-bus.js';
import { E1000 } from './e1000.js';
import * as R from './e1000-regs.js';

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const PEER = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
const MMIO_BASE = 0xfebc0000;
const IO_BASE = 0xc000;
const SLOT = 3;

class FakeBackend implements NetBackend {
  sent: Uint8Array[] = [];
  port: NetPort | null = null;
  rxSpaceCalls = 0;
  transmit(frame: Uint8Array): void {
    this.sent.push(frame.slice());
  }
  rxSpace(): void {
    this.rxSpaceCalls++;
  }
  attach(port: NetPort): void {
    this.port = port;
  }
  close(): void {}
}

const control: MachineControl = { requestReset() {}, requestPowerOff() {}, setA20() {}, a20: true };

/** Guest memory layout the fake driver uses. */
const TX_RING = 0x10000;
const RX_RING = 0x20000;
const TX_BUFS = 0x100000;
const RX_BUFS = 0x400000;
const RX_BUF_SIZE = 2048;

/**
 * Programs the card the way Linux's e1000 driver does: reset through the I/O BAR, the
 * EEPROM by Microwire bit-banging, the PHY through MDIC, then the rings and interrupts.
 */
class FakeDriver {
  readonly memory = new GuestMemory(16 << 20);
  readonly io = new IoBus();
  readonly bus = new PciBus(this.io, this.memory, control);
  readonly backend = new FakeBackend();
  readonly clock = new ManualClock();
  readonly timers = new TimerQueue(this.clock);
  readonly nic: E1000;
  /** Every change of the INTA# level the PIRQ router saw. */
  readonly irqEdges: boolean[] = [];
  irqLevel = false;
  txCount = 0;
  private txTail = 0;
  rxCount = 0;
  rxNext = 0;

  constructor(options: { backend?: boolean; timers?: boolean } = {}) {
    this.bus.pirqSink = {
      setPirq: (_pirq, _source, high) => {
        this.irqLevel = high;
        this.irqEdges.push(high);
      },
    };
    this.nic = new E1000({ memory: this.memory, mac: MAC, backend: options.backend === false ? null : this.backend, timers: options.timers === true ? this.timers : null });
    this.bus.add(SLOT, 0, this.nic, this.nic.barHandlers());
    this.nic.connectIrq(this.bus.intx(SLOT, 0));
    // What the firmware does: place the BARs and enable decoding and bus mastering.
    this.nic.configWrite(0x10, 4, MMIO_BASE);
    this.nic.configWrite(0x14, 4, IO_BASE);
    this.nic.configWrite(0x04, 2, 0x0007);
  }

  r32(off: number): number {
    return this.memory.read32(MMIO_BASE + off) >>> 0;
  }

  w32(off: number, v: number): void {
    this.memory.write32(MMIO_BASE + off, v >>> 0);
  }

  /** e1000_reset_hw: mask everything, stop the queues, reset through IOADDR/IODATA. */
  resetHw(): void {
    this.w32(R.IMC, 0xffffffff);
    this.w32(R.RCTL, 0);
    this.w32(R.TCTL, R.TCTL_PSP);
    this.r32(R.STATUS);
    const ctrl = this.r32(R.CTRL);
    this.io.write(IO_BASE + R.IOADDR, 4, R.CTRL);
    this.io.write(IO_BASE + R.IODATA, 4, ctrl | R.CTRL_RST);
    this.w32(R.IMC, 0xffffffff);
    this.r32(R.ICR);
  }

  /** e1000_read_eeprom on a Microwire part: opcode and 6 address bits out, 16 bits in. */
  eepromReadMicrowire(word: number): number {
    let eecd = this.r32(R.EECD) | R.EECD_REQ;
    this.w32(R.EECD, eecd);
    expect(this.r32(R.EECD) & R.EECD_GNT).not.toBe(0);
    eecd = (eecd & ~(R.EECD_DI | R.EECD_SK)) | R.EECD_CS;
    this.w32(R.EECD, eecd);
    const shiftOut = (data: number, bits: number): void => {
      for (let mask = 1 << (bits - 1); mask !== 0; mask >>>= 1) {
        eecd = (data & mask) !== 0 ? eecd | R.EECD_DI : eecd & ~R.EECD_DI;
        this.w32(R.EECD, eecd);
        this.w32(R.EECD, eecd | R.EECD_SK);
        this.w32(R.EECD, eecd);
      }
      eecd &= ~R.EECD_DI;
      this.w32(R.EECD, eecd);
    };
    shiftOut(0b110, 3);
    shiftOut(word, 6);
    let data = 0;
    for (let i = 0; i < 16; i++) {
      this.w32(R.EECD, eecd | R.EECD_SK);
      data = (data << 1) | ((this.r32(R.EECD) & R.EECD_DO) !== 0 ? 1 : 0);
      this.w32(R.EECD, eecd);
    }
    // Standby, then release.
    this.w32(R.EECD, eecd & ~R.EECD_CS);
    this.w32(R.EECD, eecd & ~(R.EECD_CS | R.EECD_REQ));
    return data;
  }

  eepromReadEerd(word: number): number {
    this.w32(R.EERD, (word << R.EERD_ADDR_SHIFT) | R.EERD_START);
    const v = this.r32(R.EERD);
    expect(v & R.EERD_DONE).not.toBe(0);
    return v >>> R.EERD_DATA_SHIFT;
  }

  phyRead(reg: number, phy = 1): { data: number; error: boolean } {
    this.w32(R.MDIC, (reg << R.MDIC_REG_SHIFT) | (phy << R.MDIC_PHY_SHIFT) | R.MDIC_OP_READ);
    const v = this.r32(R.MDIC);
    expect(v & R.MDIC_READY).not.toBe(0);
    return { data: v & 0xffff, error: (v & R.MDIC_ERROR) !== 0 };
  }

  phyWrite(reg: number, data: number): void {
    this.w32(R.MDIC, (reg << R.MDIC_REG_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | R.MDIC_OP_WRITE | data);
  }

  /** e1000_configure_tx / e1000_configure_rx / e1000_alloc_rx_buffers / e1000_irq_enable. */
  up(options: { txCount?: number; rxCount?: number; rctl?: number } = {}): void {
    this.txCount = options.txCount ?? 64;
    this.rxCount = options.rxCount ?? 16;
    this.w32(R.TDBAL, TX_RING);
    this.w32(R.TDBAH, 0);
    this.w32(R.TDLEN, this.txCount * 16);
    this.w32(R.TDH, 0);
    this.w32(R.TDT, 0);
    this.w32(R.TIPG, 0x00602008);
    this.w32(R.TCTL, R.TCTL_EN | R.TCTL_PSP | (0x0f << 4) | (0x40 << 12));
    this.w32(R.RDTR, 0);
    this.w32(R.ITR, 0);
    this.w32(R.RDBAL, RX_RING);
    this.w32(R.RDBAH, 0);
    this.w32(R.RDLEN, this.rxCount * 16);
    this.w32(R.RDH, 0);
    this.w32(R.RDT, 0);
    this.w32(R.RXCSUM, this.r32(R.RXCSUM) | R.RXCSUM_TUOFL);
    this.w32(R.RCTL, options.rctl ?? R.RCTL_EN | R.RCTL_BAM);
    for (let i = 0; i < this.rxCount; i++) this.setRxDescriptor(i);
    this.w32(R.RDT, this.rxCount - 1);
    this.w32(R.IMS, R.ICR_RXT0 | R.ICR_TXDW | R.ICR_RXDMT0 | R.ICR_RXSEQ | R.ICR_LSC);
  }

  setRxDescriptor(i: number): void {
    const at = RX_RING + i * 16;
    this.memory.write32(at, RX_BUFS + i * RX_BUF_SIZE);
    this.memory.write32(at + 4, 0);
    this.memory.write32(at + 8, 0);
    this.memory.write32(at + 12, 0);
  }

  /** Queue descriptors (four dwords each, buffers already in memory) and bump TDT. */
  queueTx(descriptors: number[][]): number[] {
    const slots: number[] = [];
    for (const d of descriptors) {
      const at = TX_RING + this.txTail * 16;
      d.forEach((v, i) => this.memory.write32(at + i * 4, v));
      slots.push(this.txTail);
      this.txTail = (this.txTail + 1) % this.txCount;
    }
    this.w32(R.TDT, this.txTail);
    return slots;
  }

  /** A buffer in the TX area holding `bytes`; returns its address. */
  private txBufNext = TX_BUFS;
  txBuffer(bytes: Uint8Array): number {
    const at = this.txBufNext;
    this.memory.writeBytes(at, bytes);
    this.txBufNext += (bytes.length + 15) & ~15;
    return at;
  }

  rxDescriptor(i: number): { length: number; status: number; errors: number; special: number; data: Uint8Array } {
    const at = RX_RING + i * 16;
    const length = this.memory.read16(at + 8);
    return {
      length,
      status: this.memory.read8(at + 12),
      errors: this.memory.read8(at + 13),
      special: this.memory.read16(at + 14),
      data: this.memory.readBytes(this.memory.read32(at) >>> 0, length),
    };
  }
}

function broughtUp(options: { backend?: boolean; timers?: boolean; rctl?: number; rxCount?: number } = {}): FakeDriver {
  const d = new FakeDriver(options);
  d.resetHw();
  d.up({ rctl: options.rctl, rxCount: options.rxCount });
  d.r32(R.ICR);
  return d;
}

// Frames -------------------------------------------------------------------------------------

function ethernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

const SRC_IP = 0x0a00020f;
const DST_IP = 0x0a000202;

function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return b;
}

/** IPv4 + TCP (20-byte header each) in an Ethernet frame, checksums zero. */
function tcpFrame(payload: Uint8Array, seq: number, flags: number, id = 0x1234): Uint8Array {
  const ip = new Uint8Array(40 + payload.length);
  const dv = new DataView(ip.buffer);
  ip[0] = 0x45;
  dv.setUint16(2, ip.length);
  dv.setUint16(4, id);
  dv.setUint16(6, 0x4000);
  ip[8] = 64;
  ip[9] = 6;
  dv.setUint32(12, SRC_IP);
  dv.setUint32(16, DST_IP);
  dv.setUint16(20, 40000);
  dv.setUint16(22, 80);
  dv.setUint32(24, seq);
  dv.setUint32(28, 1000);
  ip[32] = 5 << 4;
  ip[33] = flags;
  dv.setUint16(34, 65535);
  ip.set(payload, 40);
  return ethernet(PEER, MAC, 0x0800, ip);
}

function udpFrame(payload: Uint8Array): Uint8Array {
  const ip = new Uint8Array(28 + payload.length);
  const dv = new DataView(ip.buffer);
  ip[0] = 0x45;
  dv.setUint16(2, ip.length);
  ip[8] = 64;
  ip[9] = 17;
  dv.setUint32(12, SRC_IP);
  dv.setUint32(16, DST_IP);
  dv.setUint16(20, 5353);
  dv.setUint16(22, 53);
  dv.setUint16(24, 8 + payload.length);
  ip.set(payload, 28);
  return ethernet(PEER, MAC, 0x0800, ip);
}

/** Fill in valid IPv4 and TCP/UDP checksums (what a peer on the network sends). */
function finalize(f: Uint8Array): Uint8Array {
  const dv = new DataView(f.buffer, f.byteOffset);
  dv.setUint16(24, 0);
  dv.setUint16(24, internetChecksum(f, 14, 20));
  const proto = f[23];
  const l4Len = dv.getUint16(16) - 20;
  const csumAt = 34 + (proto === 6 ? 16 : 6);
  dv.setUint16(csumAt, 0);
  dv.setUint16(csumAt, finishChecksum(onesSum(f, 34, l4Len, pseudoHeaderSum(SRC_IP, DST_IP, proto, l4Len))));
  return f;
}

/** Whether a frame's IPv4 header and TCP/UDP checksums verify. */
function checksumsValid(f: Uint8Array): { ip: boolean; l4: boolean } {
  const dv = new DataView(f.buffer, f.byteOffset);
  const ihl = (f[14] & 0xf) * 4;
  const total = dv.getUint16(16);
  const l4Len = total - ihl;
  const src = dv.getUint32(26);
  const dst = dv.getUint32(30);
  return {
    ip: internetChecksum(f, 14, ihl) === 0,
    l4: finishChecksum(onesSum(f, 14 + ihl, l4Len, pseudoHeaderSum(src, dst, f[23], l4Len))) === 0,
  };
}

/** What Linux leaves in the L4 checksum field for offload: the folded pseudo-header sum, no length. */
function putPseudoSum(f: Uint8Array, csumAt: number, proto: number, length: number): void {
  let s = pseudoHeaderSum(SRC_IP, DST_IP, proto, length);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  f[csumAt] = s >>> 8;
  f[csumAt + 1] = s & 0xff;
}

const CMD_LEGACY = R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS;

// Tests -----------------------------------------------------------------------------------------

describe('e1000 PCI function', () => {
  it('identifies as an 82540EM network controller with a 128 KiB memory BAR, 64 I/O ports and INTA', () => {
    const d = new FakeDriver();
    const n = d.nic;
    expect(n.configRead(0x00, 4)).toBe(0x100e8086);
    expect(n.configRead(0x08, 4) >>> 8).toBe(0x020000);
    expect(n.configRead(0x2c, 4)).toBe((R.E1000_SUBSYSTEM_ID << 16) | R.E1000_SUBSYSTEM_VENDOR);
    expect(n.configRead(0x3d, 1)).toBe(1);
    n.configWrite(0x10, 4, 0xffffffff);
    expect(n.configRead(0x10, 4)).toBe(0xfffe0000);
    n.configWrite(0x14, 4, 0xffffffff);
    expect(n.configRead(0x14, 4)).toBe(0xffffffc1);
  });

  it('answers at wherever the guest moves BAR0, and not at the old place', () => {
    const d = new FakeDriver();
    expect(d.r32(R.STATUS) & R.STATUS_LU).not.toBe(0);
    d.nic.configWrite(0x10, 4, 0xfe000000);
    expect(d.memory.read32(0xfe000000 + R.STATUS) & R.STATUS_LU).not.toBe(0);
    expect(d.r32(R.STATUS)).toBe(0xffffffff);
  });
});

describe('e1000 bring-up as Linux does it', () => {
  it('reset through IOADDR/IODATA self-clears and returns registers to power-on values', () => {
    const d = new FakeDriver();
    d.w32(R.TDLEN, 4096);
    d.w32(R.IMS, R.ICR_RXT0);
    d.resetHw();
    expect(d.r32(R.CTRL) & R.CTRL_RST).toBe(0);
    expect(d.r32(R.CTRL) & R.CTRL_SLU).not.toBe(0);
    expect(d.r32(R.TDLEN)).toBe(0);
    expect(d.r32(R.IMS)).toBe(0);
    const status = d.r32(R.STATUS);
    expect(status & (R.STATUS_LU | R.STATUS_FD)).toBe(R.STATUS_LU | R.STATUS_FD);
    expect(status & (3 << 6)).toBe(R.STATUS_SPEED_1000);
  });

  it('the EEPROM holds the MAC and sums to 0xBABA, read by Microwire and by EERD alike', () => {
    const d = new FakeDriver();
    const viaMicrowire: number[] = [];
    const viaEerd: number[] = [];
    for (let w = 0; w < 64; w++) {
      viaMicrowire.push(d.eepromReadMicrowire(w));
      viaEerd.push(d.eepromReadEerd(w));
    }
    expect(viaMicrowire).toEqual(viaEerd);
    expect(viaEerd.reduce((a, b) => (a + b) & 0xffff, 0)).toBe(0xbaba);
    const mac = viaEerd.slice(0, 3).flatMap((w) => [w & 0xff, w >>> 8]);
    expect(mac).toEqual(Array.from(MAC));
    expect(viaEerd[0x0d]).toBe(0x100e);
    expect(viaEerd[0x0a] >>> 14).toBe(1); // valid signature
  });

  it('RA[0] holds the MAC with Address Valid after reset', () => {
    const d = new FakeDriver();
    expect(d.r32(R.RA)).toBe(0x12005452);
    expect(d.r32(R.RA + 4)).toBe((R.RAH_AV | 0x5634) >>> 0);
  });

  it('the PHY answers at address 1 as an M88E1011 with link and autonegotiation complete', () => {
    const d = new FakeDriver();
    const id = (d.phyRead(2).data << 16) | d.phyRead(3).data;
    expect((id & 0xfffffff0) >>> 0).toBe(0x01410c20);
    const bmsr = d.phyRead(1).data;
    expect(bmsr & 0x24).toBe(0x24);
    expect(d.phyRead(0x11).data & 0xc000).toBe(0x8000); // 1000 Mb/s
    expect(d.phyRead(0x0a).data & 0x0800).not.toBe(0); // partner 1000 FD
    expect(d.phyRead(1, 2).error).toBe(true);
    d.phyWrite(4, 0x0de1);
    expect(d.phyRead(4).data).toBe(0x0de1);
    d.phyWrite(1, 0);
    expect(d.phyRead(1).data).toBe(bmsr);
  });

  it('restarting autonegotiation self-clears and raises a link status change interrupt', () => {
    const d = broughtUp();
    d.phyWrite(0, 0x1140 | 0x0200);
    expect(d.phyRead(0).data & 0x0200).toBe(0);
    expect(d.irqLevel).toBe(true);
    expect(d.r32(R.ICR) & R.ICR_LSC).not.toBe(0);
    expect(d.irqLevel).toBe(false);
  });

  it('ICS with LSC (how e1000_open starts its watchdog) interrupts, and ICR reads clear it', () => {
    const d = broughtUp();
    let wakes = 0;
    d.nic.onInterrupt = () => wakes++;
    expect(d.irqLevel).toBe(false);
    d.w32(R.ICS, R.ICR_LSC);
    expect(d.irqLevel).toBe(true);
    expect(wakes).toBe(1);
    expect(d.r32(R.ICS) & R.ICR_LSC).not.toBe(0);
    expect(d.r32(R.ICR)).toBe(R.ICR_LSC);
    expect(d.irqLevel).toBe(false);
    expect(d.r32(R.ICR)).toBe(0);
  });

  it('masked causes stay in ICR without asserting the line; unmasking asserts it; INTx disable hides it', () => {
    const d = broughtUp();
    d.w32(R.IMC, 0xffffffff);
    d.w32(R.ICS, R.ICR_RXT0);
    expect(d.irqLevel).toBe(false);
    d.w32(R.IMS, R.ICR_RXT0);
    expect(d.irqLevel).toBe(true);
    d.nic.configWrite(0x04, 2, 0x0407);
    expect(d.irqLevel).toBe(false);
    d.nic.configWrite(0x04, 2, 0x0007);
    expect(d.irqLevel).toBe(true);
  });

  it('unknown registers read 0 and ignore writes', () => {
    const d = broughtUp();
    d.w32(0x0e10, 0xdeadbeef);
    expect(d.r32(0x0e10)).toBe(0);
    d.w32(R.MANC, 0x12345678);
    expect(d.r32(R.MANC)).toBe(0x12345678);
  });

  it("the I/O BAR's IOADDR/IODATA window reaches the same registers", () => {
    const d = broughtUp();
    d.io.write(IO_BASE + R.IOADDR, 4, R.STATUS);
    expect(d.io.read(IO_BASE + R.IOADDR, 4)).toBe(R.STATUS);
    expect(d.io.read(IO_BASE + R.IODATA, 4)).toBe(d.r32(R.STATUS));
    d.io.write(IO_BASE + R.IOADDR, 4, R.RDTR);
    d.io.write(IO_BASE + R.IODATA, 4, 0x1234);
    expect(d.r32(R.RDTR)).toBe(0x1234);
    d.w32(R.ICS, R.ICR_RXT0);
    d.io.write(IO_BASE + R.IOADDR, 4, R.ICR);
    expect(d.io.read(IO_BASE + R.IODATA, 4)).toBe(R.ICR_RXT0);
    expect(d.irqLevel).toBe(false);
  });
});

describe('e1000 transmit', () => {
  it('a legacy descriptor frame reaches the backend byte-exact, with DD written back and TXDW raised', () => {
    const d = broughtUp();
    const frame = tcpFrame(pattern(300), 1, 0x18);
    const [slot] = d.queueTx([[d.txBuffer(frame), 0, frame.length | CMD_LEGACY, 0]]);
    expect(d.backend.sent).toHaveLength(1);
    expect(d.backend.sent[0]).toEqual(frame);
    expect(d.memory.read8(TX_RING + slot * 16 + 12) & R.TXD_STAT_DD).toBe(R.TXD_STAT_DD);
    expect(d.r32(R.TDH)).toBe(d.r32(R.TDT));
    expect(d.irqLevel).toBe(true);
    expect(d.r32(R.ICR) & R.ICR_TXDW).toBe(R.ICR_TXDW);
    expect(d.irqLevel).toBe(false);
    expect(d.r32(R.GPTC)).toBe(1);
    expect(d.r32(R.GPTC)).toBe(0);
    expect(d.r32(R.GOTCL)).toBe(frame.length + 4);
  });

  it('a frame split over several descriptors goes out once, at EOP', () => {
    const d = broughtUp();
    const frame = udpFrame(pattern(1000, 3));
    const a = d.txBuffer(frame.subarray(0, 42));
    const b = d.txBuffer(frame.subarray(42, 500));
    const c = d.txBuffer(frame.subarray(500));
    d.queueTx([
      [a, 0, 42 | R.TXD_CMD_IFCS, 0],
      [b, 0, 458 | R.TXD_CMD_IFCS, 0],
      [c, 0, (frame.length - 500) | CMD_LEGACY, 0],
    ]);
    expect(d.backend.sent).toEqual([frame]);
  });

  it('drops frames silently without a backend, and counts them', () => {
    const d = broughtUp({ backend: false });
    const frame = udpFrame(pattern(64));
    d.queueTx([[d.txBuffer(frame), 0, frame.length | CMD_LEGACY, 0]]);
    expect(d.nic.counters.txDropped).toBe(1);
    expect(d.r32(R.TDH)).toBe(1);
  });

  it('does no DMA while bus mastering is off, and sends once it is enabled', () => {
    const d = broughtUp();
    d.nic.configWrite(0x04, 2, 0x0003);
    const frame = udpFrame(pattern(80));
    d.queueTx([[d.txBuffer(frame), 0, frame.length | CMD_LEGACY, 0]]);
    expect(d.backend.sent).toHaveLength(0);
    expect(d.r32(R.TDH)).toBe(0);
    d.nic.configWrite(0x04, 2, 0x0007);
    expect(d.backend.sent).toEqual([frame]);
  });

  it('a TDT past the end of the ring or a buffer above 4 GiB cannot hang or crash the card', () => {
    const d = broughtUp();
    d.w32(R.TDT, 5000);
    expect(d.r32(R.TDH)).toBeLessThan(d.txCount);
    const e = broughtUp();
    e.queueTx([[0x1000, 1, 64 | CMD_LEGACY, 0]]);
    expect(e.backend.sent).toHaveLength(1);
    expect(e.backend.sent[0].every((b) => b === 0xff)).toBe(true);
  });

  it('checksum offload fills in the IPv4 header and TCP checksums from a context descriptor', () => {
    const d = broughtUp();
    const frame = tcpFrame(pattern(777), 5000, 0x18);
    putPseudoSum(frame, 50, 6, 0);
    // Linux leaves the pseudo-header sum with the length for plain checksum offload.
    putPseudoSum(frame, 50, 6, frame.length - 34);
    const ctx = [14 | (24 << 8) | (33 << 16), 34 | (50 << 8), R.TXD_CMD_DEXT | R.TXD_CMD_IP | R.TXD_CMD_TCP, 0];
    const data = [d.txBuffer(frame), 0, frame.length | R.TXD_CMD_DEXT | R.TXD_DTYP_DATA | R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS, (R.TXD_POPTS_TXSM | R.TXD_POPTS_IXSM) << 8];
    d.queueTx([ctx, data]);
    expect(d.backend.sent).toHaveLength(1);
    expect(checksumsValid(d.backend.sent[0])).toEqual({ ip: true, l4: true });
    expect(d.backend.sent[0].subarray(54)).toEqual(frame.subarray(54));
  });

  it('checksum offload for UDP ends at TUCSE=0 (the end of the frame)', () => {
    const d = broughtUp();
    const frame = udpFrame(pattern(101, 9));
    putPseudoSum(frame, 40, 17, frame.length - 34);
    const ctx = [0, 34 | (40 << 8), R.TXD_CMD_DEXT, 0];
    const data = [d.txBuffer(frame), 0, frame.length | R.TXD_CMD_DEXT | R.TXD_DTYP_DATA | R.TXD_CMD_EOP | R.TXD_CMD_RS, R.TXD_POPTS_TXSM << 8];
    d.queueTx([ctx, data]);
    expect(checksumsValid(finalizeIpOnly(d.backend.sent[0])).l4).toBe(true);
  });

  it('TSO turns a 20000-byte super-packet into MSS-sized segments with consecutive sequence numbers and valid checksums', () => {
    const d = broughtUp();
    const payload = pattern(20000, 5);
    const mss = 1460;
    const seq0 = 0xfffff000; // wraps during the burst
    const sp = tcpFrame(payload, seq0, 0x19); // FIN|PSH|ACK
    const dv = new DataView(sp.buffer);
    dv.setUint16(16, 0); // Linux zeroes tot_len and the IP checksum for TSO
    putPseudoSum(sp, 50, 6, 0);
    const hdrLen = 54;
    const ctx = [
      14 | (24 << 8) | (33 << 16),
      34 | (50 << 8),
      (payload.length & 0xfffff) | R.TXD_CMD_DEXT | R.TXD_CMD_TSE | R.TXD_CMD_IP | R.TXD_CMD_TCP,
      (hdrLen << 8) | (mss << 16),
    ];
    const dataCmd = R.TXD_CMD_DEXT | R.TXD_DTYP_DATA | R.TXD_CMD_TSE | R.TXD_CMD_IFCS;
    const popts = (R.TXD_POPTS_TXSM | R.TXD_POPTS_IXSM) << 8;
    const descs: number[][] = [[d.txBuffer(sp.subarray(0, hdrLen)), 0, hdrLen | dataCmd, popts]];
    for (let off = hdrLen; off < sp.length; off += 4096) {
      const end = Math.min(sp.length, off + 4096);
      descs.push([d.txBuffer(sp.subarray(off, end)), 0, (end - off) | dataCmd | (end === sp.length ? R.TXD_CMD_EOP | R.TXD_CMD_RS : 0), popts]);
    }
    d.queueTx([ctx, ...descs]);

    const segs = d.backend.sent;
    expect(segs).toHaveLength(Math.ceil(payload.length / mss));
    const joined: number[] = [];
    segs.forEach((s, i) => {
      const sdv = new DataView(s.buffer);
      const last = i === segs.length - 1;
      const len = last ? payload.length - mss * i : mss;
      expect(s.length).toBe(hdrLen + len);
      expect(sdv.getUint16(16)).toBe(40 + len);
      expect(sdv.getUint16(18)).toBe((0x1234 + i) & 0xffff);
      expect(sdv.getUint32(38)).toBe((seq0 + i * mss) >>> 0);
      expect(s[47] & 0x09).toBe(last ? 0x09 : 0);
      expect(s[47] & 0x10).toBe(0x10);
      expect(checksumsValid(s)).toEqual({ ip: true, l4: true });
      joined.push(...s.subarray(hdrLen));
    });
    expect(Uint8Array.from(joined)).toEqual(payload);
    expect(d.r32(R.TSCTC)).toBe(1);
  });

  it('inserts an 802.1Q tag when the descriptor asks (VLE) and CTRL.VME is on', () => {
    const d = broughtUp();
    d.w32(R.VET, 0); // what Linux's e1000_init_hw does on the 82540: tags are still 0x8100
    d.w32(R.CTRL, d.r32(R.CTRL) | R.CTRL_VME);
    const frame = udpFrame(pattern(50));
    d.queueTx([[d.txBuffer(frame), 0, frame.length | CMD_LEGACY | R.TXD_CMD_VLE, 0x0123 << 16]]);
    const out = d.backend.sent[0];
    expect(Array.from(out.subarray(12, 16))).toEqual([0x81, 0x00, 0x01, 0x23]);
    expect(out.subarray(16)).toEqual(frame.subarray(12));
  });
});

/** UDP frames built here have no IP checksum; fill it so only the L4 result is under test. */
function finalizeIpOnly(f: Uint8Array): Uint8Array {
  const copy = f.slice();
  new DataView(copy.buffer).setUint16(24, internetChecksum(copy, 14, 20));
  return copy;
}

describe('e1000 receive', () => {
  it('a frame for our MAC lands in the ring with DD and EOP, length counting the FCS, and RXT0 interrupts', () => {
    const d = broughtUp();
    const frame = finalize(tcpFrame(pattern(500), 7, 0x10));
    frame.set(MAC, 0);
    expect(d.nic.deliver(frame)).toBe(true);
    const desc = d.rxDescriptor(0);
    expect(desc.status & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD | R.RXD_STAT_EOP);
    expect(desc.length).toBe(frame.length + 4);
    expect(desc.data.subarray(0, frame.length)).toEqual(frame);
    expect(d.r32(R.RDH)).toBe(1);
    expect(d.irqLevel).toBe(true);
    expect(d.r32(R.ICR) & R.ICR_RXT0).toBe(R.ICR_RXT0);
    expect(d.irqLevel).toBe(false);
    expect(d.irqEdges).toEqual([true, false]);
    expect(d.r32(R.GPRC)).toBe(1);
  });

  it('with SECRC the length is the frame alone; frames shorter than 60 bytes are padded', () => {
    const d = broughtUp({ rctl: R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC });
    const arp = ethernet(Uint8Array.of(255, 255, 255, 255, 255, 255), PEER, 0x0806, pattern(28));
    expect(d.nic.deliver(arp)).toBe(true);
    const desc = d.rxDescriptor(0);
    expect(desc.length).toBe(60);
    expect(desc.data.subarray(0, 42)).toEqual(arp);
    expect(Array.from(desc.data.subarray(42))).toEqual(new Array(18).fill(0));
  });

  it('reports verified TCP/IP checksums (TCPCS, IPCS) and flags a corrupt one (TCPE)', () => {
    const d = broughtUp();
    d.w32(R.RXCSUM, R.RXCSUM_TUOFL | R.RXCSUM_IPOFL);
    const good = finalize(tcpFrame(pattern(200), 9, 0x10));
    good.set(MAC, 0);
    const bad = good.slice();
    bad[100] ^= 0xff;
    d.nic.deliver(good);
    d.nic.deliver(bad);
    const a = d.rxDescriptor(0);
    const b = d.rxDescriptor(1);
    expect(a.status & (R.RXD_STAT_TCPCS | R.RXD_STAT_IPCS | R.RXD_STAT_IXSM)).toBe(R.RXD_STAT_TCPCS | R.RXD_STAT_IPCS);
    expect(a.errors).toBe(0);
    expect(b.errors & R.RXD_ERR_TCPE).toBe(R.RXD_ERR_TCPE);
    expect(b.errors & R.RXD_ERR_IPE).toBe(0);
  });

  it('filters: foreign unicast dropped, broadcast needs BAM, multicast needs an MTA bit or MPE, UPE takes all', () => {
    const d = broughtUp({ rctl: R.RCTL_EN | R.RCTL_SECRC });
    const foreign = ethernet(PEER, PEER, 0x0800, pattern(100));
    const bcast = ethernet(Uint8Array.of(255, 255, 255, 255, 255, 255), PEER, 0x0806, pattern(46));
    const mcast = ethernet(Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb), PEER, 0x0800, pattern(46));
    expect(d.nic.deliver(foreign)).toBe(true);
    expect(d.nic.deliver(bcast)).toBe(true);
    expect(d.nic.deliver(mcast)).toBe(true);
    expect(d.r32(R.RDH)).toBe(0);
    // MO = 0: hash = address bits 47:36 (last two bytes 0x00 0xfb -> 0xfb0).
    const hash = ((0xfb << 8) | 0x00) >>> 4;
    d.w32(R.MTA + (hash >>> 5) * 4, 1 << (hash & 31));
    expect(d.nic.deliver(mcast)).toBe(true);
    expect(d.r32(R.RDH)).toBe(1);
    d.w32(R.RCTL, R.RCTL_EN | R.RCTL_SECRC | R.RCTL_BAM | R.RCTL_UPE);
    d.nic.deliver(bcast);
    d.nic.deliver(foreign);
    expect(d.r32(R.RDH)).toBe(3);
    expect(d.rxDescriptor(2).data.subarray(0, foreign.length)).toEqual(foreign);
  });

  it('a full ring refuses the frame (deliver false) and asks for it again once the driver returns buffers', () => {
    // Rings are multiples of 8 descriptors (RDLEN in 128-byte units); the driver hands over 7.
    const d = broughtUp({ rxCount: 8, rctl: R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC });
    const frame = (i: number): Uint8Array => ethernet(MAC, PEER, 0x0800, pattern(100, i));
    const first = [1, 2, 3, 4, 5, 6, 7].map((i) => d.nic.deliver(frame(i)));
    expect(first).toEqual(new Array(7).fill(true));
    expect(d.r32(R.RDH)).toBe(7);
    expect(d.nic.deliver(frame(8))).toBe(false);
    expect(d.r32(R.MPC)).toBe(0);
    expect(d.backend.rxSpaceCalls).toBe(0);
    // The driver cleans descriptors 0..2 and gives them back.
    for (let i = 0; i < 3; i++) d.setRxDescriptor(i);
    d.w32(R.RDT, 2);
    expect(d.backend.rxSpaceCalls).toBe(1);
    expect(d.nic.deliver(frame(8))).toBe(true);
    expect(d.rxDescriptor(7).data.subarray(0, 114)).toEqual(frame(8));
    expect(d.r32(R.RDH)).toBe(0);
  });

  it('a backend refused before a reset hears rxSpace() once the reinitialised driver posts buffers', () => {
    const d = broughtUp({ rxCount: 8, rctl: R.RCTL_EN | R.RCTL_SECRC });
    d.w32(R.RDT, 0);
    expect(d.nic.deliver(ethernet(MAC, PEER, 0x0800, pattern(64)))).toBe(false);
    d.nic.reset();
    d.nic.configWrite(0x10, 4, MMIO_BASE);
    d.nic.configWrite(0x14, 4, IO_BASE);
    d.nic.configWrite(0x04, 2, 0x0007);
    expect(d.backend.rxSpaceCalls).toBe(0);
    d.resetHw();
    d.up({ rxCount: 8, rctl: R.RCTL_EN | R.RCTL_SECRC });
    expect(d.backend.rxSpaceCalls).toBe(1);
  });

  it('the RXDMT0 cause fires when the free descriptors fall to the threshold', () => {
    const d = broughtUp({ rxCount: 8, rctl: R.RCTL_EN | R.RCTL_SECRC });
    const causes: number[] = [];
    for (let i = 0; i < 4; i++) {
      d.nic.deliver(ethernet(MAC, PEER, 0x0800, pattern(64)));
      causes.push(d.r32(R.ICR));
    }
    // 7 handed over; after 3 frames 4 left = half of 8: RXDMT0 (RDMTS = 1/2).
    expect(causes.map((c) => (c & R.ICR_RXDMT0) !== 0)).toEqual([false, false, true, true]);
  });

  it('a frame larger than one buffer spans descriptors, EOP only on the last', () => {
    const bsize256 = 3 << R.RCTL_BSIZE_SHIFT;
    const d = broughtUp({ rctl: R.RCTL_EN | bsize256 });
    const frame = ethernet(MAC, PEER, 0x0800, pattern(986, 4));
    expect(d.nic.deliver(frame)).toBe(true);
    const total = frame.length + 4;
    const descs = [0, 1, 2, 3].map((i) => d.rxDescriptor(i));
    expect(descs.map((x) => x.length)).toEqual([256, 256, 256, total - 768]);
    expect(descs.map((x) => x.status & R.RXD_STAT_EOP)).toEqual([0, 0, 0, R.RXD_STAT_EOP]);
    expect(descs.every((x) => (x.status & R.RXD_STAT_DD) !== 0)).toBe(true);
    const joined = new Uint8Array(total);
    descs.forEach((x, i) => joined.set(x.data, i * 256));
    expect(joined.subarray(0, frame.length)).toEqual(frame);
    expect(d.r32(R.RDH)).toBe(4);
  });

  it('strips an 802.1Q tag into the descriptor (VP, special) when CTRL.VME is on', () => {
    const d = broughtUp({ rctl: R.RCTL_EN | R.RCTL_SECRC });
    d.w32(R.CTRL, d.r32(R.CTRL) | R.CTRL_VME);
    const inner = ethernet(MAC, PEER, 0x0800, pattern(80));
    const tagged = new Uint8Array(inner.length + 4);
    tagged.set(inner.subarray(0, 12), 0);
    tagged.set([0x81, 0x00, 0x20, 0x05], 12);
    tagged.set(inner.subarray(12), 16);
    expect(d.nic.deliver(tagged)).toBe(true);
    const desc = d.rxDescriptor(0);
    expect(desc.status & R.RXD_STAT_VP).toBe(R.RXD_STAT_VP);
    expect(desc.special).toBe(0x2005);
    expect(desc.data).toEqual(inner);
  });

  it('drops everything while the receiver is off or the link is down', () => {
    const d = broughtUp();
    d.w32(R.RCTL, 0);
    expect(d.nic.deliver(ethernet(MAC, PEER, 0x0800, pattern(64)))).toBe(true);
    d.w32(R.RCTL, R.RCTL_EN);
    d.nic.setLinkUp(false);
    expect(d.r32(R.STATUS) & R.STATUS_LU).toBe(0);
    expect(d.r32(R.ICR) & R.ICR_LSC).toBe(R.ICR_LSC);
    expect(d.nic.deliver(ethernet(MAC, PEER, 0x0800, pattern(64)))).toBe(true);
    expect(d.r32(R.RDH)).toBe(0);
    expect(d.nic.counters.rxDropped).toBe(2);
  });

  it('PHY loopback returns transmitted frames to the receive ring', () => {
    const d = broughtUp({ rctl: R.RCTL_EN | R.RCTL_SECRC });
    d.phyWrite(0, 0x4140);
    const frame = ethernet(MAC, MAC, 0x88b5, pattern(100));
    d.queueTx([[d.txBuffer(frame), 0, frame.length | CMD_LEGACY, 0]]);
    expect(d.backend.sent).toHaveLength(0);
    expect(d.rxDescriptor(0).data).toEqual(frame);
  });
});

describe('e1000 interrupt moderation', () => {
  it('holds a second interrupt until the ITR window closes, then delivers the pending causes', () => {
    const d = broughtUp({ timers: true, rctl: R.RCTL_EN | R.RCTL_SECRC });
    d.w32(R.ITR, 1000); // 256 us
    const frame = ethernet(MAC, PEER, 0x0800, pattern(64));
    d.nic.deliver(frame);
    expect(d.irqLevel).toBe(true);
    d.r32(R.ICR);
    expect(d.irqLevel).toBe(false);
    d.nic.deliver(frame);
    expect(d.irqLevel).toBe(false);
    d.clock.advance(200_000);
    d.timers.runExpired(d.clock.now());
    expect(d.irqLevel).toBe(false);
    d.clock.advance(60_000);
    d.timers.runExpired(d.clock.now());
    expect(d.irqLevel).toBe(true);
    expect(d.r32(R.ICR) & R.ICR_RXT0).toBe(R.ICR_RXT0);
  });
});

describe('e1000 snapshots', () => {
  it('save/restore round-trips registers, rings, PHY, EEPROM and pending interrupts', () => {
    const d = broughtUp({ rctl: R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC });
    d.w32(R.MTA + 8, 0x80);
    d.nic.deliver(ethernet(MAC, PEER, 0x0800, pattern(70)));
    const saved = JSON.parse(JSON.stringify(d.nic.save()));

    const e = new FakeDriver();
    e.txCount = d.txCount;
    e.memory.u8.set(d.memory.u8.subarray(0, d.memory.ramBytes));
    e.nic.restore(saved);
    expect(e.nic.save()).toEqual(saved);
    expect(e.irqLevel).toBe(true);
    for (const off of [R.RCTL, R.TCTL, R.RDH, R.RDT, R.TDLEN, R.MTA + 8, R.RA, R.STATUS]) expect(e.r32(off)).toBe(d.r32(off));
    expect(e.r32(R.ICR)).toBe(d.r32(R.ICR));
    const next = ethernet(MAC, PEER, 0x0800, pattern(90, 2));
    expect(e.nic.deliver(next)).toBe(true);
    expect(e.rxDescriptor(1).data).toEqual(next);
    const frame = udpFrame(pattern(40));
    e.queueTx([[e.txBuffer(frame), 0, frame.length | CMD_LEGACY, 0]]);
    expect(e.backend.sent).toEqual([frame]);
  });

  it('a malformed snapshot throws BadInputError and leaves the device as it was', () => {
    const d = broughtUp();
    const before = d.nic.save();
    const good = JSON.parse(JSON.stringify(before));
    const broken = [
      { ...good, version: 2 },
      { ...good, regs: [0x3000, 1] },
      { ...good, regs: [R.RCTL >>> 2] },
      { ...good, phy: [1, 2, 3] },
      { ...good, interrupts: { ...good.interrupts, icr: -1 } },
      { ...good, tx: { ...good.tx, data: [300] } },
      { ...good, config: new Array(256).fill(0) },
    ];
    for (const b of broken) expect(() => d.nic.restore(b)).toThrow(BadInputError);
    expect(d.nic.save()).toEqual(before);
  });
});
