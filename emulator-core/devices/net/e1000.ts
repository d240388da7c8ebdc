/**
 * Intel 82540EM Gigabit Ethernet controller (e1000, PCI 8086:100E), the NIC with in-box
 * drivers in Linux, the BSDs and Windows and QEMU's default on i440FX. BAR0 is the 128 KiB
 * register file, BAR1 64 I/O ports with IOADDR/IODATA reaching the same registers, INTA#.
 *
 * The guest's frames go to a NetBackend; the backend's frames arrive through deliver()
 * (NetPort). A full receive ring makes deliver() return false and the device calls the
 * backend's rxSpace() once the driver hands back buffers. See README.md for the wiring.
 */
import type { AccessSize, PortIoHandler } from '../../bus/io-bus.js';
import { PCI_COMMAND, PciFunction } from '../../bus/pci.js';
import type { PciIntx } from '../pci-bus.js';
import { BadInputError } from '../../errors.js';
import type { TimerQueue } from '../../machine/timers.js';
import type { GuestMemory, MmioHandler } from '../../memory/guest-memory.js';
import type { NetBackend, NetPort } from '../../net/link.js';
import type { Device, DeviceState } from '../device.js';
import { finiteOrNull, StateReader } from '../state.js';
import { busAddress, dmaWrite } from './dma.js';
import * as R from './e1000-regs.js';
import { buildEeprom, EEPROM_WORDS, MicrowireEeprom } from './eeprom.js';
import { NicInterrupts } from './interrupts.js';
import { M88Phy, PHY_REGS } from './phy.js';
import { acceptFrame, isBroadcast, rxBufferSize, rxChecksumBits } from './receive.js';
import { REG_DWORDS, REG_KIND, REG_NONE, REG_SPECIAL_ELSEWHERE, REG_STAT, REG_STORE, STORE_MASK } from './register-file.js';
import { countRx, countTx, countUp, readStatistic } from './stats.js';
import { MAX_TX_PACKET, TxEngine } from './transmit.js';
import type { TxContext } from './tx-offload.js';

export interface E1000Options {
  /** Guest memory, for descriptor and buffer DMA. */
  memory: GuestMemory;
  /** The station address (6 bytes), stored in the EEPROM and RA[0]. */
  mac: Uint8Array;
  /** Where transmitted frames go; null drops them (counted in `counters.txDropped`). */
  backend?: NetBackend | null;
  /**
   * The INTA# line. A PciBus hands it out only after add(), so it may also be connected
   * later with connectIrq().
   */
  irq?: PciIntx | null;
  /** Guest timers for interrupt moderation (ITR/RADV/TADV); without them every interrupt is immediate. */
  timers?: TimerQueue | null;
  /** Device name for snapshots and the bus; default "e1000". */
  name?: string;
}

/** Host-side counts the guest cannot clear (for the UI and tests). */
export interface E1000Counters {
  txFrames: number;
  /** Frames the guest sent while no backend was attached. */
  txDropped: number;
  rxFrames: number;
  /** Frames delivered while the receiver was off, filtered out, oversized or unfit for the ring. */
  rxDropped: number;
}

const MAX_FRAME = 1518;
const MAX_VLAN_FRAME = MAX_FRAME + 4;
const MAX_LONG_FRAME = 16384 - 4;
const MIN_FRAME = 60;
const FCS_BYTES = 4;
const PCI_COMMAND_INTX_DISABLE = 1 << 10;

export class E1000 extends PciFunction implements Device, MmioHandler, PortIoHandler, NetPort {
  /** Register array, one dword per 4 bytes of BAR0 (side-effect registers live elsewhere). */
  readonly regs = new Uint32Array(REG_DWORDS);
  readonly phy = new M88Phy();
  readonly eeprom: MicrowireEeprom;
  readonly counters: E1000Counters = { txFrames: 0, txDropped: 0, rxFrames: 0, rxDropped: 0 };
  /**
   * Called each time INTA# rises. Frames arrive from host callbacks while the CPU may be
   * halted: the machine wakes its run loop here (as with IdeController.onIoSettled).
   */
  onInterrupt: (() => void) | null = null;
  private readonly mac: Uint8Array;
  private readonly memory: GuestMemory;
  private readonly interrupts: NicInterrupts;
  private readonly tx: TxEngine;
  private backend: NetBackend | null = null;
  private irq: PciIntx | null;
  private irqHigh = false;
  private ioaddr = 0;
  /** deliver() refused a frame for lack of buffers: tell the backend when buffers return. */
  private rxBlocked = false;
  private readonly rxScratch = new Uint8Array(MAX_LONG_FRAME + FCS_BYTES);
  /**
   * The FCS bytes the guest sees without RCTL.SECRC. Zeros, not the CRC-32: drivers drop
   * them (Linux's e1000 subtracts 4 from the length) and computing it halved receive speed.
   */
  private readonly fcs = new Uint8Array(FCS_BYTES);
  private readonly sendFrame = (frame: Uint8Array): void => this.send(frame);

  constructor(options: E1000Options) {
    super(options.name ?? 'e1000', {
      vendor: R.E1000_VENDOR,
      device: R.E1000_DEVICE_82540EM,
      revision: R.E1000_REVISION,
      classCode: 0x02,
      subclass: 0x00,
      subsystemVendor: R.E1000_SUBSYSTEM_VENDOR,
      subsystemId: R.E1000_SUBSYSTEM_ID,
      interruptPin: 1,
    });
    if (options.mac.length !== 6) throw new BadInputError(`${this.name}: a MAC address has 6 bytes, got ${options.mac.length}`);
    this.mac = Uint8Array.from(options.mac);
    this.memory = options.memory;
    this.defineBar(R.MMIO_BAR, { kind: 'mem32', size: R.MMIO_BYTES });
    this.defineBar(R.IO_BAR, { kind: 'io', size: R.IO_BYTES });
    // Cache line size and latency timer are plain storage, as on the card.
    this.writeMask[0x0c] = 0xff;
    this.writeMask[0x0d] = 0xff;
    this.eeprom = new MicrowireEeprom(
      buildEeprom({
        mac: this.mac,
        device: R.E1000_DEVICE_82540EM,
        vendor: R.E1000_VENDOR,
        subsystemId: R.E1000_SUBSYSTEM_ID,
        subsystemVendor: R.E1000_SUBSYSTEM_VENDOR,
      }),
    );
    this.irq = options.irq ?? null;
    this.interrupts = new NicInterrupts(this.regs, () => this.driveIrq(), options.timers ?? null);
    this.tx = new TxEngine(this.memory, this.regs, this.sendFrame);
    this.resetRegisters();
    this.setBackend(options.backend ?? null);
  }

  /** What the PCI bus needs to map BAR0 (MMIO) and BAR1 (ports) wherever the guest puts them. */
  barHandlers(): { mmio(bar: number): MmioHandler | null; io(bar: number): PortIoHandler | null } {
    return {
      mmio: (bar) => (bar === R.MMIO_BAR ? this : null),
      io: (bar) => (bar === R.IO_BAR ? this : null),
    };
  }

  /** Connect INTA# (e.g. `bus.intx(slot, 0)` after `bus.add(...)`). */
  connectIrq(irq: PciIntx | null): void {
    this.irq = irq;
    this.irq?.set(this.irqHigh);
  }

  /** Attach (or detach, with null) the network behind the card. */
  setBackend(backend: NetBackend | null): void {
    this.backend = backend;
    backend?.attach(this);
  }

  /** Plug or unplug the virtual cable: STATUS.LU and the PHY follow, with a link-status interrupt. */
  setLinkUp(up: boolean): void {
    if (up === this.phy.linkUp) return;
    this.phy.setLink(up);
    this.updateStatus();
    this.interrupts.raise(R.ICR_LSC);
    if (up) this.retryRx();
  }

  get linkUp(): boolean {
    return this.phy.linkUp;
  }

  /** The station address the guest programmed into RA[0] (what it answers to). */
  get currentMac(): Uint8Array {
    const lo = this.regs[R.RA >>> 2];
    const hi = this.regs[(R.RA >>> 2) + 1];
    return Uint8Array.of(lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff);
  }

  // Reset --------------------------------------------------------------------------------

  /** Power-on register values (CTRL.RST does this too; PCI configuration is untouched). */
  private resetRegisters(): void {
    const r = this.regs;
    r.fill(0);
    r[R.CTRL >>> 2] = R.CTRL_SLU | R.CTRL_SPD_1000 | R.CTRL_SWDPIN0 | R.CTRL_SWDPIN2;
    r[R.PBA >>> 2] = 0x00100030;
    r[R.LEDCTL >>> 2] = 0x00000602;
    r[R.VET >>> 2] = 0x8100;
    r[R.RXCSUM >>> 2] = R.RXCSUM_IPOFL | R.RXCSUM_TUOFL;
    r[R.MDIC >>> 2] = R.MDIC_READY;
    const m = this.mac;
    r[R.RA >>> 2] = (m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24)) >>> 0;
    r[(R.RA >>> 2) + 1] = (m[4] | (m[5] << 8) | R.RAH_AV) >>> 0;
    this.phy.reset();
    this.updateStatus();
    this.eeprom.reset();
    this.interrupts.reset();
    this.tx.reset();
    this.ioaddr = 0;
  }

  private updateStatus(): void {
    const up = this.phy.linkUp;
    this.regs[R.STATUS >>> 2] =
      R.STATUS_FD | R.STATUS_SPEED_1000 | R.STATUS_ASDV_1000 | R.STATUS_MTXCKOK | R.STATUS_GIO_MASTER_EN | (up ? R.STATUS_LU : 0);
  }

  /** Machine reset. A backend still holding refused frames keeps waiting for rxSpace(). */
  reset(): void {
    this.resetConfig();
    this.resetRegisters();
    this.driveIrq();
  }

  // PCI ----------------------------------------------------------------------------------

  override configWrite(offset: number, size: AccessSize, value: number): void {
    const wasMaster = this.busMaster;
    super.configWrite(offset, size, value);
    if (offset <= PCI_COMMAND + 1 && offset + size > PCI_COMMAND) {
      this.driveIrq();
      if (!wasMaster && this.busMaster) {
        this.runTx();
        this.retryRx();
      }
    }
  }

  private driveIrq(): void {
    const high = this.interrupts.asserted && (this.command & PCI_COMMAND_INTX_DISABLE) === 0;
    if (high === this.irqHigh) return;
    this.irqHigh = high;
    this.irq?.set(high);
    if (high) this.onInterrupt?.();
  }

  // Register access ------------------------------------------------------------------------

  mmioRead(addr: number, size: AccessSize): number {
    const off = addr & (R.MMIO_BYTES - 1);
    const v = this.readRegister(off & ~3);
    if (size === 4 && (off & 3) === 0) return v;
    return sizeSlice(v, off, size);
  }

  mmioWrite(addr: number, size: AccessSize, value: number): void {
    const off = addr & (R.MMIO_BYTES - 1);
    if (size === 4 && (off & 3) === 0) this.writeRegister(off, value >>> 0);
    else this.writeRegister(off & ~3, mergeSlice(this.regs[off >>> 2], off, size, value));
  }

  ioRead(port: number, size: AccessSize): number {
    const off = port & (R.IO_BYTES - 1);
    if (off < R.IODATA) return sizeSlice(this.ioaddr, off, size);
    if (off < R.IODATA + 4) return sizeSlice(this.readRegister(this.ioaddr & (R.MMIO_BYTES - 4)), off, size);
    return 0;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    const off = port & (R.IO_BYTES - 1);
    if (off < R.IODATA) {
      this.ioaddr = mergeSlice(this.ioaddr, off, size, value) & (R.MMIO_BYTES - 1);
    } else if (off < R.IODATA + 4) {
      const reg = this.ioaddr & (R.MMIO_BYTES - 4);
      this.writeRegister(reg, size === 4 ? value >>> 0 : mergeSlice(this.regs[reg >>> 2], off, size, value));
    }
  }

  /** One aligned dword read with its side effects. */
  private readRegister(off: number): number {
    const r = this.regs;
    switch (off) {
      case R.ICR:
        return this.interrupts.readAndClear();
      case R.ICS:
        return this.interrupts.icr;
      case R.IMS:
        return this.interrupts.ims;
      case R.IMC:
        return 0;
      case R.EECD:
        return this.eeprom.read();
    }
    const kind = REG_KIND[off >>> 2];
    if (kind === REG_STAT) return readStatistic(r, off);
    return kind === REG_NONE ? 0 : r[off >>> 2];
  }

  private writeRegister(off: number, v: number): void {
    const r = this.regs;
    switch (off) {
      case R.CTRL:
        return this.writeCtrl(v);
      case R.STATUS:
        return;
      case R.EECD:
        return this.eeprom.write(v);
      case R.EERD:
        return this.writeEerd(v);
      case R.MDIC:
        return this.writeMdic(v);
      case R.ICR:
        return this.interrupts.clear(v);
      case R.ICS:
        return this.interrupts.raise(v);
      case R.IMS:
        return this.interrupts.setMask(v);
      case R.IMC:
        return this.interrupts.clearMask(v);
      case R.RCTL: {
        const wasOn = (r[R.RCTL >>> 2] & R.RCTL_EN) !== 0;
        r[R.RCTL >>> 2] = v;
        if (!wasOn && (v & R.RCTL_EN) !== 0) this.retryRx();
        return;
      }
      case R.TCTL:
        r[R.TCTL >>> 2] = v;
        return this.runTx();
      case R.TDT:
        r[R.TDT >>> 2] = v & 0xffff;
        return this.runTx();
      case R.RDT:
        r[R.RDT >>> 2] = v & 0xffff;
        return this.retryRx();
    }
    if (REG_KIND[off >>> 2] !== REG_STORE) return;
    const mask = STORE_MASK.get(off);
    r[off >>> 2] = mask === undefined ? v : (v & mask) >>> 0;
  }

  private writeCtrl(v: number): void {
    const r = this.regs;
    if ((v & R.CTRL_RST) !== 0) {
      // A software reset returns every register to its power-on value and clears itself.
      this.resetRegisters();
      this.driveIrq();
      return;
    }
    const old = r[R.CTRL >>> 2];
    r[R.CTRL >>> 2] = v >>> 0;
    if ((v & R.CTRL_PHY_RST) !== 0 && (old & R.CTRL_PHY_RST) === 0) this.phy.reset();
    if ((v & R.CTRL_SLU) !== 0 && (old & R.CTRL_SLU) === 0 && this.phy.linkUp) this.interrupts.raise(R.ICR_LSC);
  }

  private writeEerd(v: number): void {
    if ((v & R.EERD_START) === 0) {
      this.regs[R.EERD >>> 2] = v & ~R.EERD_DONE;
      return;
    }
    const addr = (v >>> R.EERD_ADDR_SHIFT) & 0xff;
    const data = addr < EEPROM_WORDS ? this.eeprom.words[addr] : 0;
    this.regs[R.EERD >>> 2] = ((data << R.EERD_DATA_SHIFT) | (addr << R.EERD_ADDR_SHIFT) | R.EERD_DONE) >>> 0;
  }

  private writeMdic(v: number): void {
    const phyAddress = (v >>> R.MDIC_PHY_SHIFT) & 0x1f;
    const reg = (v >>> R.MDIC_REG_SHIFT) & 0x1f;
    let result = v & ~(R.MDIC_READY | R.MDIC_ERROR);
    if (phyAddress !== R.PHY_ADDRESS) result |= R.MDIC_ERROR;
    else if ((v & R.MDIC_OP_READ) !== 0) result = (result & ~R.MDIC_DATA_MASK) | this.phy.read(reg);
    else if ((v & R.MDIC_OP_WRITE) !== 0 && this.phy.write(reg, v & R.MDIC_DATA_MASK) && this.phy.linkUp) {
      // Autonegotiation restarted: it completes at once, and the driver hears about the link.
      this.interrupts.raise(R.ICR_LSC);
    }
    this.regs[R.MDIC >>> 2] = (result | R.MDIC_READY) >>> 0;
    if ((v & R.MDIC_INT_EN) !== 0) this.interrupts.raise(R.ICR_MDAC);
  }

  // Transmit -------------------------------------------------------------------------------

  private runTx(): void {
    if ((this.regs[R.TCTL >>> 2] & R.TCTL_EN) === 0 || !this.busMaster) return;
    const causes = this.tx.run();
    if (this.tx.ideSeen) {
      this.interrupts.txIde = true;
      this.tx.ideSeen = false;
    }
    this.interrupts.raise(causes);
  }

  private send(frame: Uint8Array): void {
    countTx(this.regs, frame.length, frame[0], isBroadcast(frame));
    this.counters.txFrames++;
    if (this.phy.loopback) this.deliver(frame);
    else if (this.backend !== null) this.backend.transmit(frame);
    else this.counters.txDropped++;
  }

  // Receive -------------------------------------------------------------------------------

  private retryRx(): void {
    if (!this.rxBlocked || this.backend === null || !this.rxReady() || this.freeRxDescriptors() === 0) return;
    this.rxBlocked = false;
    this.backend.rxSpace();
  }

  private rxReady(): boolean {
    return this.phy.linkUp && (this.regs[R.RCTL >>> 2] & R.RCTL_EN) !== 0 && this.busMaster;
  }

  private rxRingSize(): number {
    return Math.floor(this.regs[R.RDLEN >>> 2] / R.DESC_BYTES);
  }

  /** Descriptors the driver has handed to the card (RDH up to RDT). */
  private freeRxDescriptors(): number {
    const count = this.rxRingSize();
    const head = this.regs[R.RDH >>> 2];
    const tail = this.regs[R.RDT >>> 2];
    if (count === 0 || head >= count || tail >= count) return 0;
    return (tail - head + count) % count;
  }

  private dropRx(overrun: boolean): true {
    this.counters.rxDropped++;
    if (overrun) {
      countUp(this.regs, R.MPC);
      this.interrupts.raise(R.ICR_RXO);
    }
    return true;
  }

  /** NetPort: one frame from the network (no FCS). False: no buffer now, keep it for rxSpace(). */
  deliver(frame: Uint8Array): boolean {
    const r = this.regs;
    const rctl = r[R.RCTL >>> 2];
    if (!this.rxReady() || frame.length < 14) return this.dropRx(false);
    const vet = R.vlanEthertype(r);
    const tagged = frame.length >= 18 && ((frame[12] << 8) | frame[13]) === vet;
    const vlanId = tagged ? ((frame[14] << 8) | frame[15]) & 0xfff : -1;
    const limit = (rctl & R.RCTL_LPE) !== 0 ? MAX_LONG_FRAME : tagged ? MAX_VLAN_FRAME : MAX_FRAME;
    if (frame.length > limit && (rctl & R.RCTL_SBP) === 0) {
      countUp(r, R.ROC);
      return this.dropRx(false);
    }
    if (frame.length > MAX_LONG_FRAME || !acceptFrame(r, rctl, frame, vlanId)) return this.dropRx(false);

    let data = frame;
    let len = frame.length;
    let special = 0;
    let vlanStatus = 0;
    if (tagged && (r[R.CTRL >>> 2] & R.CTRL_VME) !== 0) {
      special = (frame[14] << 8) | frame[15];
      vlanStatus = R.RXD_STAT_VP;
      data = this.rxScratch;
      data.set(frame.subarray(0, 12), 0);
      data.set(frame.subarray(16), 12);
      len -= 4;
    }
    if (len < MIN_FRAME) {
      if (data !== this.rxScratch) this.rxScratch.set(frame, 0);
      data = this.rxScratch;
      data.fill(0, len, MIN_FRAME);
      len = MIN_FRAME;
    }

    const fcsLen = (rctl & R.RCTL_SECRC) !== 0 ? 0 : FCS_BYTES;
    const total = len + fcsLen;
    const bufSize = rxBufferSize(rctl);
    const count = this.rxRingSize();
    const need = Math.ceil(total / bufSize);
    // The card owns at most count - 1 descriptors: a frame needing more can never land.
    if (count === 0 || need > count - 1) return this.dropRx(true);
    const free = this.freeRxDescriptors();
    if (free < need) {
      if (r[R.RDH >>> 2] >= count || r[R.RDT >>> 2] >= count) return this.dropRx(true);
      this.rxBlocked = true;
      return false;
    }

    const csum = rxChecksumBits(data, len, r[R.RXCSUM >>> 2]);
    const base = busAddress(r[R.RDBAL >>> 2] & ~0xf, r[R.RDBAH >>> 2]);
    const m = this.memory;
    const tail = r[R.RDT >>> 2];
    let head = r[R.RDH >>> 2];
    let done = 0;
    while (done < total) {
      if (head === tail || base < 0) {
        // Null-address descriptors used up the buffers (the frame is cut short).
        r[R.RDH >>> 2] = head;
        return this.dropRx(true);
      }
      const at = base + head * R.DESC_BYTES;
      const lo = m.read32(at) >>> 0;
      const hi = m.read32(at + 4) >>> 0;
      head = head + 1 === count ? 0 : head + 1;
      if (lo === 0 && hi === 0) {
        // A descriptor without a buffer is skipped (completed empty), as the manual says.
        m.write32(at + 8, 0);
        m.write32(at + 12, R.RXD_STAT_DD);
        continue;
      }
      const addr = busAddress(lo, hi);
      const chunk = Math.min(bufSize, total - done);
      const fromData = Math.max(0, Math.min(chunk, len - done));
      if (fromData > 0) dmaWrite(m, addr, data.subarray(done, done + fromData));
      if (chunk > fromData) {
        const fcsStart = done + fromData - len;
        dmaWrite(m, addr + fromData, this.fcs.subarray(fcsStart, fcsStart + chunk - fromData));
      }
      done += chunk;
      const last = done >= total;
      const status = R.RXD_STAT_DD | vlanStatus | (last ? R.RXD_STAT_EOP | (csum & 0xff) : 0);
      const errors = last ? csum >>> 8 : 0;
      m.write32(at + 8, chunk);
      m.write32(at + 12, (status | (errors << 8) | (special << 16)) >>> 0);
    }
    r[R.RDH >>> 2] = head;
    countRx(r, len, data[0], isBroadcast(data));
    this.counters.rxFrames++;

    let causes = R.ICR_RXT0;
    const left = (tail - head + count) % count;
    const threshold = r[R.RDLEN >>> 2] >>> (((rctl >>> R.RCTL_RDMTS_SHIFT) & 3) + 1);
    if (left * R.DESC_BYTES <= threshold) causes |= R.ICR_RXDMT0;
    this.interrupts.raise(causes);
    return true;
  }

  // Snapshots ----------------------------------------------------------------------------------

  save(): DeviceState {
    const regs: number[] = [];
    for (let i = 0; i < REG_DWORDS; i++) if (this.regs[i] !== 0) regs.push(i, this.regs[i]);
    const irq = this.interrupts.snapshot();
    const mw = this.eeprom.state;
    const tx = this.tx.progress();
    return {
      version: 1,
      config: Array.from(this.config),
      regs,
      phy: Array.from(this.phy.regs),
      link: this.phy.linkUp,
      eeprom: Array.from(this.eeprom.words),
      microwire: { eecd: mw.eecd, bitsIn: mw.bitsIn, command: mw.command, reading: mw.reading, outBit: mw.outBit },
      ioaddr: this.ioaddr,
      interrupts: { icr: irq.icr, ims: irq.ims, level: irq.level, windowEnd: finiteOrNull(irq.windowEnd ?? Infinity), txIde: irq.txIde },
      tx: {
        csum: contextState(tx.csum),
        tso: contextState(tx.tso),
        data: Array.from(tx.data),
        popts: tx.popts,
        tse: tx.tse,
        legacyCss: tx.legacyCss,
        legacyCso: tx.legacyCso,
        legacyIc: tx.legacyIc,
        overflow: tx.overflow,
      },
      rxBlocked: this.rxBlocked,
    };
  }

  /** Inverse of save(); checks everything before changing anything (BadInputError). */
  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const config = r.ints('config', 0, 0xff, 256);
    for (let i = 0; i < 4; i++) if (config[i] !== this.config[i]) r.fail('config', 'belongs to a different PCI function');
    const pairs = r.ints('regs', 0, 0xffffffff, 0, REG_DWORDS * 2);
    if (pairs.length % 2 !== 0) r.fail('regs', 'must hold index/value pairs');
    for (let i = 0; i < pairs.length; i += 2) {
      const idx = pairs[i];
      if (idx >= REG_DWORDS || REG_KIND[idx] === REG_NONE || REG_KIND[idx] === REG_SPECIAL_ELSEWHERE) {
        r.fail('regs', `names register 0x${(idx * 4).toString(16)}, which holds no state`);
      }
    }
    const phy = r.ints('phy', 0, 0xffff, PHY_REGS);
    const link = r.bool('link');
    const eeprom = r.ints('eeprom', 0, 0xffff, EEPROM_WORDS);
    const mwr = r.obj('microwire');
    const microwire = {
      eecd: mwr.int('eecd', 0, 0xffffffff),
      bitsIn: mwr.int('bitsIn', 0, 0xffff),
      command: mwr.int('command', 0, 0x1ff),
      reading: mwr.bool('reading'),
      outBit: mwr.int('outBit', -1, EEPROM_WORDS * 16 * 2),
    };
    const ioaddr = r.int('ioaddr', 0, R.MMIO_BYTES - 1);
    const ir = r.obj('interrupts');
    const windowEnd = ir.numOrInfinity('windowEnd');
    const irq = {
      icr: ir.int('icr', 0, 0xffffffff),
      ims: ir.int('ims', 0, 0xffffffff),
      level: ir.bool('level'),
      windowEnd: windowEnd === Infinity ? null : windowEnd,
      txIde: ir.bool('txIde'),
    };
    const tr = r.obj('tx');
    const tx = {
      csum: parseContextState(tr.obj('csum')),
      tso: parseContextState(tr.obj('tso')),
      data: Uint8Array.from(tr.ints('data', 0, 0xff, 0, MAX_TX_PACKET)),
      popts: tr.int('popts', 0, 0xff),
      tse: tr.bool('tse'),
      legacyCss: tr.int('legacyCss', 0, 0xff),
      legacyCso: tr.int('legacyCso', 0, 0xff),
      legacyIc: tr.bool('legacyIc'),
      overflow: tr.bool('overflow'),
    };
    const rxBlocked = r.bool('rxBlocked');

    this.config.set(config);
    this.regs.fill(0);
    for (let i = 0; i < pairs.length; i += 2) this.regs[pairs[i]] = pairs[i + 1];
    this.phy.setLink(link);
    this.phy.regs.set(phy);
    this.eeprom.words.set(eeprom);
    this.eeprom.state = microwire;
    this.ioaddr = ioaddr;
    this.tx.restoreProgress(tx);
    this.rxBlocked = rxBlocked;
    this.interrupts.restoreSnapshot(irq);
    this.updateBars();
    this.driveIrq();
  }
}

/** Bytes `off & 3` .. of a dword, for accesses narrower than 4 bytes. */
function sizeSlice(v: number, off: number, size: AccessSize): number {
  const shifted = v >>> ((off & 3) * 8);
  return size === 4 ? shifted >>> 0 : shifted & (size === 2 ? 0xffff : 0xff);
}

/** A narrow write merged into the dword it lands in. */
function mergeSlice(old: number, off: number, size: AccessSize, value: number): number {
  const shift = (off & 3) * 8;
  const mask = (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff) * 2 ** shift;
  const m = mask >>> 0;
  return ((old & ~m) | ((value * 2 ** shift) & m)) >>> 0;
}

const CONTEXT_BYTES = ['ipcss', 'ipcso', 'tucss', 'tucso', 'hdrLen'] as const;
const CONTEXT_WORDS = ['ipcse', 'tucse', 'mss'] as const;
const CONTEXT_FLAGS = ['ip', 'tcp', 'tse'] as const;

function contextState(c: TxContext): { [key: string]: number | boolean } {
  return { ...c };
}

function parseContextState(r: StateReader): TxContext {
  const c = {} as TxContext;
  for (const k of CONTEXT_BYTES) c[k] = r.int(k, 0, 0xff);
  for (const k of CONTEXT_WORDS) c[k] = r.int(k, 0, 0xffff);
  for (const k of CONTEXT_FLAGS) c[k] = r.bool(k);
  c.paylen = r.int('paylen', 0, 0xfffff);
  return c;
}
