/**
 * The transmit ring: walks descriptors from TDH to TDT, gathers each packet's buffers
 * (legacy descriptors, or context + data descriptors with checksum offload and TSO), hands
 * finished frames to the device, and writes back DD where the driver asked (RS).
 */
import type { GuestMemory } from '../../memory/guest-memory.js';
import { busAddress, dmaRead } from './dma.js';
import {
  CTRL,
  CTRL_VME,
  DESC_BYTES,
  ICR_TXDW,
  ICR_TXQE,
  TDBAH,
  TDBAL,
  TDH,
  TDLEN,
  TDT,
  TSCTC,
  TXD_CMD_DEXT,
  TXD_CMD_EOP,
  TXD_CMD_IC,
  TXD_CMD_IDE,
  TXD_CMD_RPS,
  TXD_CMD_RS,
  TXD_CMD_TSE,
  TXD_CMD_VLE,
  TXD_DTYP_DATA,
  TXD_STAT_DD,
  TXD_STAT_ERRORS,
  vlanEthertype,
} from './e1000-regs.js';
import { countUp } from './stats.js';
import { applyChecksums, emptyContext, insertChecksum, parseContext, segment, type TxContext } from './tx-offload.js';

/** Largest packet gathered from descriptors: a 64 KiB TSO super-packet with room to spare. */
export const MAX_TX_PACKET = 0x40000;
const DTYP_MASK = 0xf << 20;
const VLAN_TAG = 4;

/** Plain data of a packet still being gathered (for snapshots). */
export interface TxProgress {
  csum: TxContext;
  tso: TxContext;
  /** Bytes gathered so far of the packet in progress. */
  data: Uint8Array;
  popts: number;
  tse: boolean;
  legacyCss: number;
  legacyCso: number;
  legacyIc: boolean;
  overflow: boolean;
}

export class TxEngine {
  /** Checksum context (a context descriptor without TSE) and segmentation context (with TSE). */
  csum: TxContext = emptyContext();
  tso: TxContext = emptyContext();
  private packet = new Uint8Array(0x10000);
  private size = 0;
  private popts = 0;
  private tse = false;
  private legacyCss = 0;
  private legacyCso = 0;
  private legacyIc = false;
  private overflow = false;
  private segScratch = new Uint8Array(0x10000 + 256);
  private vlanScratch = new Uint8Array(0x10000 + 256 + VLAN_TAG);
  private vlanTci = -1;
  private running = false;
  /** A descriptor since the last look asked for a delayed interrupt (IDE: TADV applies). */
  ideSeen = false;
  private readonly emitFrame = (frame: Uint8Array): void => this.emit(frame);

  constructor(
    private readonly memory: GuestMemory,
    private readonly regs: Uint32Array,
    /** A finished frame (valid only during the call). */
    private readonly send: (frame: Uint8Array) => void,
  ) {}

  reset(): void {
    this.csum = emptyContext();
    this.tso = emptyContext();
    this.clearPacket();
  }

  private clearPacket(): void {
    this.size = 0;
    this.popts = 0;
    this.tse = false;
    this.legacyIc = false;
    this.overflow = false;
    this.vlanTci = -1;
  }

  /** Process every descriptor the driver has handed over; returns the interrupt causes. */
  run(): number {
    if (this.running) return 0;
    this.running = true;
    try {
      return this.walk();
    } finally {
      this.running = false;
    }
  }

  private walk(): number {
    const r = this.regs;
    const count = Math.floor(r[TDLEN >>> 2] / DESC_BYTES);
    let causes = ICR_TXQE;
    if (count === 0) return causes;
    const base = busAddress(r[TDBAL >>> 2] & ~0xf, r[TDBAH >>> 2]);
    const m = this.memory;
    // At most one lap per call: a TDT beyond the ring cannot make us spin.
    for (let n = 0; n < count && r[TDH >>> 2] !== r[TDT >>> 2]; n++) {
      const head = r[TDH >>> 2];
      if (head >= count || base < 0) break;
      const at = base + head * DESC_BYTES;
      const d0 = m.read32(at) >>> 0;
      const d1 = m.read32(at + 4) >>> 0;
      const d2 = m.read32(at + 8) >>> 0;
      const d3 = m.read32(at + 12) >>> 0;
      if ((d2 & TXD_CMD_IDE) !== 0) this.ideSeen = true;
      this.descriptor(d0, d1, d2, d3);
      if ((d2 & (TXD_CMD_RS | TXD_CMD_RPS)) !== 0) {
        m.write8(at + 12, (m.read8(at + 12) & ~TXD_STAT_ERRORS) | TXD_STAT_DD);
        causes |= ICR_TXDW;
      }
      r[TDH >>> 2] = head + 1 >= count ? 0 : head + 1;
    }
    return causes;
  }

  private descriptor(d0: number, d1: number, d2: number, d3: number): void {
    const extended = (d2 & TXD_CMD_DEXT) !== 0;
    const dtyp = d2 & DTYP_MASK;
    if (extended && dtyp === 0) {
      parseContext(d0, d1, d2, d3, (d2 & TXD_CMD_TSE) !== 0 ? this.tso : this.csum);
      return;
    }
    let length: number;
    if (extended) {
      if (dtyp !== TXD_DTYP_DATA) return;
      if (this.size === 0) {
        this.popts = (d3 >>> 8) & 0xff;
        this.tse = (d2 & TXD_CMD_TSE) !== 0;
      }
      length = d2 & 0xfffff;
    } else {
      if (this.size === 0) {
        this.legacyCso = (d2 >>> 16) & 0xff;
        this.legacyCss = (d3 >>> 8) & 0xff;
        this.legacyIc = (d2 & TXD_CMD_IC) !== 0;
      }
      length = d2 & 0xffff;
    }
    this.gather(busAddress(d0, d1), length);
    if ((d2 & TXD_CMD_EOP) === 0) return;
    if ((d2 & TXD_CMD_VLE) !== 0 && (this.regs[CTRL >>> 2] & CTRL_VME) !== 0) this.vlanTci = d3 >>> 16;
    this.finish(extended);
    this.clearPacket();
  }

  private gather(addr: number, length: number): void {
    if (length === 0 || this.overflow) return;
    const end = this.size + length;
    if (end > MAX_TX_PACKET) {
      this.overflow = true;
      return;
    }
    if (end > this.packet.length) {
      const bigger = new Uint8Array(Math.min(MAX_TX_PACKET, Math.max(end, this.packet.length * 2)));
      bigger.set(this.packet.subarray(0, this.size));
      this.packet = bigger;
    }
    dmaRead(this.memory, addr, this.packet.subarray(this.size, end));
    this.size = end;
  }

  private finish(extended: boolean): void {
    const len = this.size;
    if (len === 0 || this.overflow) return;
    const pkt = this.packet;
    if (!extended) {
      if (this.legacyIc) insertChecksum(pkt, len, this.legacyCss, this.legacyCso, 0);
      this.emit(pkt.subarray(0, len));
      return;
    }
    if (this.tse) {
      const ctx = this.tso;
      if (ctx.hdrLen + ctx.mss > this.segScratch.length) this.segScratch = new Uint8Array(ctx.hdrLen + ctx.mss);
      if (segment(pkt, len, ctx, this.popts, this.segScratch, this.emitFrame) > 0) countUp(this.regs, TSCTC);
      return;
    }
    applyChecksums(pkt, len, this.csum, this.popts);
    this.emit(pkt.subarray(0, len));
  }

  /** Insert the 802.1Q tag the descriptor asked for, then send. */
  private emit(frame: Uint8Array): void {
    if (this.vlanTci < 0 || frame.length < 12) {
      this.send(frame);
      return;
    }
    if (frame.length + VLAN_TAG > this.vlanScratch.length) this.vlanScratch = new Uint8Array(frame.length + VLAN_TAG);
    const out = this.vlanScratch;
    out.set(frame.subarray(0, 12), 0);
    const vet = vlanEthertype(this.regs);
    out[12] = vet >>> 8;
    out[13] = vet & 0xff;
    out[14] = this.vlanTci >>> 8;
    out[15] = this.vlanTci & 0xff;
    out.set(frame.subarray(12), 16);
    this.send(out.subarray(0, frame.length + VLAN_TAG));
  }

  // Snapshots -------------------------------------------------------------------------------

  progress(): TxProgress {
    return {
      csum: { ...this.csum },
      tso: { ...this.tso },
      data: this.packet.slice(0, this.size),
      popts: this.popts,
      tse: this.tse,
      legacyCss: this.legacyCss,
      legacyCso: this.legacyCso,
      legacyIc: this.legacyIc,
      overflow: this.overflow,
    };
  }

  restoreProgress(p: TxProgress): void {
    this.csum = { ...p.csum };
    this.tso = { ...p.tso };
    if (p.data.length > this.packet.length) this.packet = new Uint8Array(p.data.length);
    this.packet.set(p.data);
    this.size = p.data.length;
    this.popts = p.popts;
    this.tse = p.tse;
    this.legacyCss = p.legacyCss;
    this.legacyCso = p.legacyCso;
    this.legacyIc = p.legacyIc;
    this.overflow = p.overflow;
    this.vlanTci = -1;
  }
}
