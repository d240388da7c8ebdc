/**
 * Test helpers for the IDE models: a rig that drives the ports the way SeaBIOS and
 * libata do (no CPU), an in-memory BlockBackend that records and can fail or hold its
 * requests, and a tiny ISO-9660 image builder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoBus } from '../../emulator-core/bus/io-bus.js';
import { IrqLine, type IrqSink } from '../../emulator-core/bus/irq.js';
import { HostError } from '../../emulator-core/errors.js';
import { GuestMemory } from '../../emulator-core/memory/guest-memory.js';
import { checkRequest, readTarget, SECTOR_SIZE, type BlockBackend, type DiskFormat } from '../../emulator-core/storage/block-backend.js';
import { ST_BSY, ST_DRQ } from '../../emulator-core/devices/ide/constants.js';
import { IdeController, type PiixVariant } from '../../emulator-core/devices/ide/controller.js';
import type { IdeErrorSite } from '../../emulator-core/devices/ide/channel.js';
import type { IdeDrive } from '../../emulator-core/devices/ide/drive.js';

export const BM_BASE = 0xc000;
export const CMD_BASE = [0x1f0, 0x170] as const;
export const CTL_PORT = [0x3f6, 0x376] as const;

export function tempDir(prefix = 'terrarium-ide-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Let promise callbacks (our backends, the channel's completions) run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface RigOptions {
  variant?: PiixVariant;
  drives?: { channel: 0 | 1; unit: 0 | 1; drive: IdeDrive }[];
  /** Program BAR4 and enable I/O + bus mastering as firmware would (default true). */
  firmware?: boolean;
}

export class IdeRig {
  readonly memory = new GuestMemory(16 * 1024 * 1024);
  readonly io = new IoBus();
  /** Rising edges and current level per ISA line. */
  readonly edges = new Array<number>(16).fill(0);
  readonly levels = new Array<boolean>(16).fill(false);
  readonly hostErrors: { err: unknown; site: IdeErrorSite }[] = [];
  readonly ctrl: IdeController;

  constructor(options: RigOptions = {}) {
    const sink: IrqSink = {
      setIrqLevel: (line, high) => {
        if (high && !this.levels[line]) this.edges[line]++;
        this.levels[line] = high;
      },
    };
    this.ctrl = new IdeController({
      memory: this.memory,
      irq14: new IrqLine(14, [sink]),
      irq15: new IrqLine(15, [sink]),
      variant: options.variant,
    });
    for (const d of options.drives ?? []) this.ctrl.attachDrive(d.channel, d.unit, d.drive);
    this.ctrl.onHostError = (err, site) => this.hostErrors.push({ err, site });
    this.ctrl.attach(this.io);
    if (options.firmware !== false) {
      this.ctrl.configWrite(0x20, 4, BM_BASE);
      this.ctrl.configWrite(0x04, 2, 0x0005); // I/O space, bus master
    }
  }

  inb(port: number): number {
    return this.io.read(port, 1);
  }
  inw(port: number): number {
    return this.io.read(port, 2);
  }
  inl(port: number): number {
    return this.io.read(port, 4);
  }
  outb(port: number, v: number): void {
    this.io.write(port, 1, v);
  }
  outw(port: number, v: number): void {
    this.io.write(port, 2, v);
  }
  outl(port: number, v: number): void {
    this.io.write(port, 4, v);
  }

  irqLine(ch: 0 | 1): number {
    return ch === 0 ? 14 : 15;
  }

  select(ch: 0 | 1, unit: 0 | 1, low = 0): void {
    this.outb(CMD_BASE[ch] + 6, 0xa0 | (unit << 4) | low);
  }

  /** The status register (acknowledges the interrupt). */
  status(ch: 0 | 1): number {
    return this.inb(CMD_BASE[ch] + 7);
  }

  altStatus(ch: 0 | 1): number {
    return this.inb(CTL_PORT[ch]);
  }

  error(ch: 0 | 1): number {
    return this.inb(CMD_BASE[ch] + 1);
  }

  reg(ch: 0 | 1, r: number): number {
    return this.inb(CMD_BASE[ch] + r);
  }

  /** Every request the controller issued has settled. */
  async idle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      await this.ctrl.whenIdle();
      await tick();
      if (this.ctrl.pendingIo === 0) return;
    }
    throw new Error('IDE requests never settled');
  }

  /** Poll the alternate status until BSY clears, like a driver; returns it. */
  async waitNotBusy(ch: 0 | 1): Promise<number> {
    for (let i = 0; i < 10_000; i++) {
      const st = this.altStatus(ch);
      if ((st & ST_BSY) === 0) return st;
      await tick();
    }
    throw new Error(`channel ${ch} stayed busy`);
  }

  /** Load the command block for an LBA28 (or LBA48) command and write the command. */
  issue(ch: 0 | 1, unit: 0 | 1, cmd: number, t: { lba?: number; count?: number; feature?: number; lba48?: boolean; chs?: boolean } = {}): void {
    const base = CMD_BASE[ch];
    const lba = t.lba ?? 0;
    const count = t.count ?? 0;
    const feature = t.feature ?? 0;
    if (t.lba48 === true) {
      const high = Math.floor(lba / 0x1000000);
      this.outb(base + 1, 0);
      this.outb(base + 2, (count >>> 8) & 0xff);
      this.outb(base + 3, high & 0xff);
      this.outb(base + 4, (high >>> 8) & 0xff);
      this.outb(base + 5, (high >>> 16) & 0xff);
    }
    this.outb(base + 6, 0xa0 | (unit << 4) | (t.chs === true ? 0 : 0x40) | (t.lba48 === true ? 0 : (lba >>> 24) & 0x0f));
    this.outb(base + 1, feature);
    this.outb(base + 2, count & 0xff);
    this.outb(base + 3, lba & 0xff);
    this.outb(base + 4, (lba >>> 8) & 0xff);
    this.outb(base + 5, (lba >>> 16) & 0xff);
    this.outb(base + 7, cmd);
  }

  /** Read `bytes` from the data port in 16-bit words (or 32-bit with `dword`). */
  readData(ch: 0 | 1, bytes: number, dword = false): Uint8Array {
    const out = new Uint8Array(bytes + 3);
    const dv = new DataView(out.buffer);
    if (dword) for (let i = 0; i < bytes; i += 4) dv.setUint32(i, this.inl(CMD_BASE[ch]), true);
    else for (let i = 0; i < bytes; i += 2) dv.setUint16(i, this.inw(CMD_BASE[ch]), true);
    return out.subarray(0, bytes);
  }

  writeData(ch: 0 | 1, data: Uint8Array, dword = false): void {
    const padded = new Uint8Array(data.length + 3);
    padded.set(data);
    const dv = new DataView(padded.buffer);
    if (dword) for (let i = 0; i < data.length; i += 4) this.outl(CMD_BASE[ch], dv.getUint32(i, true));
    else for (let i = 0; i < data.length; i += 2) this.outw(CMD_BASE[ch], dv.getUint16(i, true));
  }

  /** A PIO data-in command: waits for each DRQ block and reads it. */
  async pioIn(ch: 0 | 1, bytes: number, blockBytes: number): Promise<Uint8Array> {
    const out = new Uint8Array(bytes);
    for (let off = 0; off < bytes; off += blockBytes) {
      await this.waitNotBusy(ch);
      const st = this.status(ch); // what an interrupt handler reads: acknowledges INTRQ
      if ((st & ST_DRQ) === 0) throw new Error(`no DRQ at byte ${off} (status 0x${st.toString(16)}, error 0x${this.error(ch).toString(16)})`);
      out.set(this.readData(ch, Math.min(blockBytes, bytes - off)), off);
    }
    return out;
  }

  /** A PIO data-out command: waits for each DRQ block and writes it. */
  async pioOut(ch: 0 | 1, data: Uint8Array, blockBytes: number): Promise<void> {
    for (let off = 0; off < data.length; off += blockBytes) {
      await this.waitNotBusy(ch);
      const st = this.status(ch);
      if ((st & ST_DRQ) === 0) throw new Error(`no DRQ at byte ${off} (status 0x${st.toString(16)})`);
      this.writeData(ch, data.subarray(off, Math.min(off + blockBytes, data.length)));
    }
  }

  /** Write a PRD table at `table` for the given (address, length) regions. */
  writePrd(table: number, regions: [number, number][]): void {
    regions.forEach(([addr, len], i) => {
      this.memory.write32(table + i * 8, addr);
      this.memory.write32(table + i * 8 + 4, (len & 0xffff) | (i === regions.length - 1 ? 0x80000000 : 0));
    });
  }

  bm(ch: 0 | 1, offset: number): number {
    return BM_BASE + ch * 8 + offset;
  }

  /** libata's bmdma_setup: table address, direction, clear start; then the command, then start. */
  setupDma(ch: 0 | 1, table: number, toMemory: boolean): void {
    this.outl(this.bm(ch, 4), table);
    const cmd = this.inb(this.bm(ch, 0)) & ~0x09;
    this.outb(this.bm(ch, 0), cmd | (toMemory ? 0x08 : 0));
    this.outb(this.bm(ch, 2), 0x06); // clear INT and ERR
  }

  startDma(ch: 0 | 1): void {
    this.outb(this.bm(ch, 0), this.inb(this.bm(ch, 0)) | 0x01);
  }

  stopDma(ch: 0 | 1): void {
    this.outb(this.bm(ch, 0), this.inb(this.bm(ch, 0)) & ~0x01);
  }

  /**
   * An ATAPI PACKET command the way libata's PIO path runs it. Returns the data the
   * device sent (DRQ blocks concatenated), the final status and error, and each block's size.
   */
  async packet(
    ch: 0 | 1,
    unit: 0 | 1,
    cdb: number[],
    options: { limit?: number; dma?: boolean } = {},
  ): Promise<{ data: Uint8Array; status: number; error: number; blocks: number[]; reason: number }> {
    const base = CMD_BASE[ch];
    const limit = options.limit ?? 0xfffe;
    this.select(ch, unit);
    this.outb(base + 1, options.dma === true ? 1 : 0);
    this.outb(base + 4, limit & 0xff);
    this.outb(base + 5, (limit >>> 8) & 0xff);
    this.outb(base + 7, 0xa0);
    let st = await this.waitNotBusy(ch);
    if ((st & ST_DRQ) === 0) throw new Error(`PACKET: no DRQ for the command packet (status 0x${st.toString(16)})`);
    if ((this.reg(ch, 2) & 3) !== 1) throw new Error('PACKET: interrupt reason is not "command"');
    const packet = new Uint8Array(12);
    packet.set(cdb);
    this.writeData(ch, packet);
    const parts: Uint8Array[] = [];
    const blocks: number[] = [];
    for (;;) {
      await this.waitNotBusy(ch);
      st = this.status(ch); // the interrupt handler's read
      if ((st & ST_DRQ) === 0) break;
      const n = this.reg(ch, 4) | (this.reg(ch, 5) << 8);
      blocks.push(n);
      parts.push(this.readData(ch, n));
    }
    const reason = this.reg(ch, 2) & 3;
    const status = this.status(ch);
    const error = this.error(ch);
    const data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    return { data, status, error, blocks, reason };
  }

  /** REQUEST SENSE: [key, asc, ascq]. */
  async sense(ch: 0 | 1, unit: 0 | 1): Promise<[number, number, number]> {
    const r = await this.packet(ch, unit, [0x03, 0, 0, 0, 18, 0]);
    return [r.data[2] & 0x0f, r.data[12], r.data[13]];
  }
}

export interface MemoryBackendOptions {
  path?: string;
  readOnly?: boolean;
  /** Hold every request until release() (to test BSY and ordering). */
  hold?: boolean;
  /** Return an error to reject a request with. */
  fault?: (op: 'read' | 'write' | 'flush', offset: number, length: number) => Error | null;
}

/** A BlockBackend over an array: records requests, can fail or hold them. */
export class MemoryBackend implements BlockBackend {
  readonly path: string;
  readonly format: DiskFormat = 'raw';
  readonly sectorSize = SECTOR_SIZE;
  readonly readOnly: boolean;
  readonly log: string[] = [];
  hold: boolean;
  fault: MemoryBackendOptions['fault'];
  private held: (() => void)[] = [];

  constructor(
    readonly data: Uint8Array,
    options: MemoryBackendOptions = {},
  ) {
    this.path = options.path ?? 'memory.img';
    this.readOnly = options.readOnly ?? false;
    this.hold = options.hold ?? false;
    this.fault = options.fault;
  }

  get size(): number {
    return this.data.length;
  }

  /** Requests waiting for release(). */
  get heldCount(): number {
    return this.held.length;
  }

  /** Stop holding: everything held now or later proceeds. */
  releaseAll(): void {
    this.hold = false;
    this.release(true);
  }

  /** Let the oldest held request (or all) proceed. */
  release(all = false): void {
    const n = all ? this.held.length : Math.min(1, this.held.length);
    for (const go of this.held.splice(0, n)) go();
  }

  private gate(): Promise<void> {
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve) => this.held.push(resolve));
  }

  read(offset: number, lengthOrTarget: number | Uint8Array): Promise<Uint8Array> {
    const target = readTarget(lengthOrTarget);
    this.log.push(`read ${offset / 512}+${target.length / 512}`);
    return this.gate().then(() => {
      checkRequest(this, 'read', offset, target.length);
      const err = this.fault?.('read', offset, target.length) ?? null;
      if (err !== null) throw err;
      target.set(this.data.subarray(offset, offset + target.length));
      return target;
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    this.log.push(`write ${offset / 512}+${data.length / 512}`);
    return this.gate().then(() => {
      checkRequest(this, 'write', offset, data.length);
      const err = this.fault?.('write', offset, data.length) ?? null;
      if (err !== null) throw err;
      this.data.set(data, offset);
    });
  }

  flush(): Promise<void> {
    this.log.push('flush');
    return this.gate().then(() => {
      const err = this.fault?.('flush', 0, 0) ?? null;
      if (err !== null) throw err;
      this.log.push('flushed');
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function eio(what: string): HostError {
  return new HostError(`memory.img: ${what} failed: EIO`, { errno: 'EIO' });
}

/** A deterministic pattern: sector `s` of `size` bytes, tagged with its number. */
export function pattern(sector: number, size: number, seed = 0): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (sector * 31 + i * 7 + seed) & 0xff;
  new DataView(b.buffer).setUint32(0, sector, true);
  return b;
}

/**
 * A tiny ISO-9660 image: system area, a primary volume descriptor at sector 16 naming
 * `volumeId`, the terminator at 17, and patterned sectors after (sector n starts with n).
 */
export function buildIso(sectors: number, volumeId = 'TERRARIUM_TEST'): Uint8Array {
  const img = new Uint8Array(sectors * 2048);
  for (let s = 18; s < sectors; s++) img.set(pattern(s, 2048, 5), s * 2048);
  const pvd = img.subarray(16 * 2048, 17 * 2048);
  pvd[0] = 1;
  pvd.set(new TextEncoder().encode('CD001'), 1);
  pvd[6] = 1;
  const id = volumeId.padEnd(32, ' ');
  for (let i = 0; i < 32; i++) pvd[40 + i] = id.charCodeAt(i);
  const dv = new DataView(pvd.buffer, pvd.byteOffset);
  dv.setUint32(80, sectors, true); // volume space size, both byte orders
  dv.setUint32(84, sectors, false);
  const term = img.subarray(17 * 2048, 18 * 2048);
  term[0] = 0xff;
  term.set(new TextEncoder().encode('CD001'), 1);
  term[6] = 1;
  return img;
}
