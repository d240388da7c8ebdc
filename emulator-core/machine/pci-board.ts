/**
 * The PCI PC that firmware boots: the legacy board (pc.ts) plus an i440FX host bridge,
 * PIIX3 ISA bridge, PIIX4 power management, fw_cfg for SeaBIOS, and the firmware ROM at
 * the top of 4 GiB with its last 128 KiB decoded below 1 MiB through the PAM registers.
 *
 * Slots follow QEMU's "pc" machine, which SeaBIOS and guests know: 00.0 host bridge,
 * 01.0 ISA bridge, 01.1 IDE, 01.3 power management, 02.0 VGA.
 */
import { readFileSync } from 'node:fs';
import { checkBiosImage, checkOptionRom, resolveFirmware, type FirmwareEnv } from '../boot/firmware.js';
import { BadInputError } from '../errors.js';
import { detectDiskFormat, openDisk, type BlockBackend } from '../storage/index.js';
import { DebugCon, DEBUGCON_PORT } from '../devices/debugcon.js';
import { FwCfg, FW_CFG_BOOT_MENU, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_NOGRAPHIC, FW_CFG_PORT_DMA, FW_CFG_PORT_SEL, FW_CFG_RAM_SIZE, FW_CFG_UUID, leInt } from '../devices/fw-cfg.js';
import type { I440fx } from '../devices/i440fx.js';
import type { PciBus } from '../devices/pci-bus.js';
import type { PiixIsa } from '../devices/piix-isa.js';
import type { PiixPm } from '../devices/piix-pm.js';
import { buildPciChipset, PCI_SLOT_PIIX, PIIX_FN_IDE, type PciChipset } from './pci-chipset.js';
import type { MachineControl } from './control.js';
import type { PcBoard } from './pc.js';
import type { Clock } from './clock.js';
import type { BootDevice, MachineConfig, ScreenUpdate } from './types.js';
import { AtaDisk, AtapiCdrom, IdeController } from '../devices/ide/index.js';
import { StdVga } from '../devices/vga/vga.js';

/** Host milliseconds between screen refreshes sent to a listener. */
const DISPLAY_INTERVAL_MS = 33;

export { PCI_SLOT_HOST, PCI_SLOT_PIIX, PIIX_FN_ISA, PIIX_FN_IDE, PIIX_FN_PM, PCI_SLOT_VGA, PCI_SLOT_NIC } from './pci-chipset.js';
import { PCI_SLOT_VGA } from './pci-chipset.js';

/** What the firmware's boot order names, in SeaBIOS's device-path form. */
export interface IdeBootDevice {
  kind: 'cdrom' | 'disk';
  channel: 0 | 1;
  slave: boolean;
}

export interface PciPcOptions {
  board: PcBoard;
  control: MachineControl;
  clock: Clock;
  /** Disk images in config order and the CD-ROM medium (null: an empty drive is still there). */
  disks: BlockBackend[];
  cdrom: BlockBackend | null;
  /** Wake a halted machine when a disk request completes. */
  wake: () => void;
  log: (line: string) => void;
  /** The BIOS image (SeaBIOS or any ROM of 64 KiB..16 MiB with a reset vector). */
  bios: Uint8Array;
  /** The VGA BIOS behind the VGA's expansion ROM BAR; null: the adapter has no video BIOS. */
  vgaBios: Uint8Array | null;
  bootOrder: BootDevice;
  /** Send firmware and bootloader text to COM1 (SeaBIOS's sercon) for headless runs. */
  serialConsole: boolean;
  /** Firmware debug lines (port 0x402); null leaves the port unclaimed (SeaBIOS stays quiet). */
  firmwareDebug: ((line: string) => void) | null;
}

export class PciPc {
  readonly chipset: PciChipset;
  readonly bus: PciBus;
  readonly host: I440fx;
  readonly isa: PiixIsa;
  readonly pm: PiixPm;
  readonly fwCfg: FwCfg;
  readonly ide: IdeController;
  readonly cdrom: AtapiCdrom | null;
  readonly vga: StdVga;
  private readonly drives: IdeBootDevice[];
  private readonly backends: BlockBackend[];
  private refresh: ReturnType<typeof setInterval> | null = null;

  constructor(options: PciPcOptions) {
    const { board, control } = options;
    const memory = board.memory;
    const bios = options.bios;
    // The flash decodes at the top of 4 GiB; its last 128 KiB also appears below 1 MiB.
    const biosBacking = memory.mapRom(0x100000000 - bios.length, bios, 'bios');
    const lowLength = Math.min(bios.length, 0x20000);

    const chipset = buildPciChipset(board, control, { backing: biosBacking + bios.length - lowLength, length: lowLength });
    this.chipset = chipset;
    this.bus = chipset.bus;
    this.host = chipset.host;
    this.isa = chipset.isa;
    this.pm = chipset.pm;
    // SeaBIOS's tables announce S5 as sleep type 0.
    board.acpi.s5Type = 0;

    // IDE at 01.1 in compatibility mode (IRQ 14/15); it maps its bus-master BAR itself.
    this.ide = new IdeController({ memory, irq14: board.irq(14), irq15: board.irq(15) });
    this.ide.onIoSettled = options.wake;
    this.ide.onHostError = (err, site) => options.log(`ide ${site.op} (channel ${site.channel}, unit ${site.unit}): ${err instanceof Error ? err.message : String(err)}`);
    this.ide.attach(board.io);
    this.bus.add(PCI_SLOT_PIIX, PIIX_FN_IDE, this.ide);
    const placed = placeDrives(options.disks.length, options.cdrom !== null);
    placed.disks.forEach((d, i) => this.ide.attachDrive(d.channel, d.slave ? 1 : 0, new AtaDisk(options.disks[i]!)));
    this.drives = [...placed.disks];
    this.cdrom = null;
    if (placed.cdrom !== null) {
      this.cdrom = new AtapiCdrom({ medium: options.cdrom });
      this.ide.attachDrive(placed.cdrom.channel, placed.cdrom.slave ? 1 : 0, this.cdrom);
      this.drives.push(placed.cdrom);
    }
    this.backends = [...options.disks, ...(options.cdrom !== null ? [options.cdrom] : [])];

    // Standard VGA at 02.0 with its BIOS behind the ROM BAR and VRAM beside guest RAM.
    this.vga = new StdVga({ clock: options.clock, vgaBios: options.vgaBios ?? undefined });
    this.vga.attach(memory, board.io);
    this.vga.vramInState = false;
    this.bus.add(PCI_SLOT_VGA, 0, this.vga, this.vga.barHandlers());
    if (options.vgaBios === null) options.log('no VGA BIOS found (install seabios or give --vga-bios): the display has no video BIOS');

    this.fwCfg = new FwCfg(memory);
    board.io.register(FW_CFG_PORT_SEL, 2, this.fwCfg, 'fw-cfg');
    board.io.register(FW_CFG_PORT_DMA, 8, this.fwCfg, 'fw-cfg');
    this.configureFirmware(options);

    if (options.firmwareDebug !== null) {
      const dbg = new DebugCon(options.firmwareDebug);
      board.io.register(DEBUGCON_PORT, 1, dbg, 'debugcon');
      board.devices.push(dbg);
      this.fwCfg.onDiagnostic = options.firmwareDebug;
    }
    board.devices.push(this.ide, this.vga, this.fwCfg);
  }

  /** The whole screen, or null without a display adapter. */
  screenshot(): ScreenUpdate | null {
    return this.vga.screenshotUpdate();
  }

  /**
   * Send the screen's changes to `sink` about 30 times a second of host time while the
   * machine runs (rendering costs host time, so nothing is rendered without a listener).
   */
  startDisplay(sink: (update: ScreenUpdate) => void): void {
    const vga = this.vga;
    if (this.refresh !== null) return;
    this.refresh = setInterval(() => {
      for (const u of vga.screenUpdates()) sink(u);
    }, DISPLAY_INTERVAL_MS);
    this.refresh.unref();
  }

  stopDisplay(): void {
    if (this.refresh !== null) clearInterval(this.refresh);
    this.refresh = null;
  }

  /** Put a disc in the CD-ROM drive (null: eject). Returns why not, or null when done. */
  changeMedium(medium: BlockBackend | null): string | null {
    const cd = this.cdrom;
    if (cd === null) return 'this machine has no CD-ROM drive';
    if (medium === null) {
      const r = cd.eject();
      if (!r.ejected) return 'the guest has locked the CD-ROM tray';
      if (r.previous !== null) void r.previous.close().catch(() => {});
      return null;
    }
    const previous = cd.insertMedium(medium);
    if (previous !== null && previous !== medium) void previous.close().catch(() => {});
    return null;
  }

  /** Wait for disk requests in flight, then flush and close every image. */
  async close(): Promise<void> {
    this.stopDisplay();
    await this.ide.whenIdle();
    const media = new Set(this.backends);
    if (this.cdrom?.currentMedium) media.add(this.cdrom.currentMedium);
    await Promise.allSettled([...media].map((b) => b.close()));
  }

  private configureFirmware(o: PciPcOptions): void {
    const fw = this.fwCfg;
    const board = o.board;
    const ram = board.memory.ramBytes;
    fw.setItem(FW_CFG_RAM_SIZE, leInt(ram, 8));
    fw.setItem(FW_CFG_NB_CPUS, leInt(1, 2));
    fw.setItem(FW_CFG_MAX_CPUS, leInt(1, 2));
    fw.setItem(FW_CFG_NOGRAPHIC, leInt(o.vgaBios === null ? 1 : 0, 2));
    fw.setItem(FW_CFG_BOOT_MENU, leInt(0, 2));
    fw.setItem(FW_CFG_UUID, new Uint8Array(16));

    // One RAM entry: SeaBIOS reserves its own areas (EBDA, BIOS, ROMs) on top of it.
    const e820 = new Uint8Array(20);
    const dv = new DataView(e820.buffer);
    dv.setUint32(0, 0, true);
    dv.setUint32(8, ram, true);
    dv.setUint32(16, 1, true);
    fw.addFile('etc/e820', e820);

    if (this.drives.length > 0) fw.addFile('bootorder', new TextEncoder().encode(bootOrderText(o.bootOrder, this.drives) + '\0'));
    // No "press ESC" pause on every boot; retry an unbootable machine after 5 s, not 60.
    fw.addFile('etc/show-boot-menu', leInt(0, 2));
    fw.addFile('etc/boot-fail-wait', leInt(5000, 4));
    if (o.serialConsole) fw.addFile('etc/sercon-port', leInt(0x3f8, 2));

    // CMOS boot order for firmware that reads it (SeaBIOS also does, under the file above):
    // 0x3D holds the first and second device, 0x38's high nibble the third (2 disk, 3 CD).
    const first = o.bootOrder === 'cdrom' ? 3 : 2;
    const second = o.bootOrder === 'cdrom' ? 2 : 3;
    board.rtc.setByte(0x3d, (second << 4) | first);
    board.rtc.setByte(0x38, 0x01); // bit 0: skip the floppy boot-signature check
  }
}

/** SeaBIOS device path of an IDE drive on the PIIX at 00:01.1. */
export function ideDevicePath(d: IdeBootDevice): string {
  return `/pci@i0cf8/ide@${PCI_SLOT_PIIX},${PIIX_FN_IDE}/drive@${d.channel}/disk@${d.slave ? 1 : 0}`;
}

/** The fw_cfg "bootorder" file: the chosen kind of drive first, then the others. */
export function bootOrderText(first: BootDevice, drives: IdeBootDevice[]): string {
  const rank = (d: IdeBootDevice): number => (d.kind === first ? 0 : 1);
  return drives
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .map(({ d }) => ideDevicePath(d))
    .join('\n');
}

/**
 * Where drives go on the two IDE channels: the CD-ROM on the secondary master (as QEMU's
 * -cdrom), disks on the primary master, primary slave and secondary slave.
 */
export function placeDrives(diskCount: number, hasCdrom: boolean): { disks: IdeBootDevice[]; cdrom: IdeBootDevice | null } {
  const disk = (channel: 0 | 1, slave: boolean): IdeBootDevice => ({ kind: 'disk', channel, slave });
  const slots = hasCdrom ? [disk(0, false), disk(0, true), disk(1, true)] : [disk(0, false), disk(0, true), disk(1, false), disk(1, true)];
  if (diskCount > slots.length) {
    throw new BadInputError(`at most ${slots.length} disks fit on the two IDE channels${hasCdrom ? ' beside the CD-ROM' : ''}; got ${diskCount}`);
  }
  return { disks: slots.slice(0, diskCount), cdrom: hasCdrom ? { kind: 'cdrom', channel: 1, slave: false } : null };
}

/** Firmware images and opened drives for a PCI PC, prepared before the machine is built. */
export interface PciPcPlan {
  bios: Uint8Array;
  biosPath: string;
  vgaBios: Uint8Array | null;
  vgaBiosPath: string | null;
  /** Guest-memory bytes to reserve beside RAM: the BIOS ROM and device memory. */
  romBytes: number;
  /** Opened disk images, in config order, and the CD-ROM medium. */
  disks: BlockBackend[];
  cdrom: BlockBackend | null;
}

/** Device memory reserved for a display adapter (VRAM) beside the BIOS. */
export const DEVICE_MEMORY_BYTES = 32 * 1048576;

/**
 * Resolve and read the firmware and open the drives of `config`; throws BadInputError with
 * one line. `firmwareEnv` names the firmware folder the caller's environment adds, if any.
 */
export async function preparePciPc(config: MachineConfig, wantVga: boolean, firmwareEnv: FirmwareEnv = {}): Promise<PciPcPlan> {
  const fw = resolveFirmware({ bios: config.bios, vgaBios: config.vgaBios, wantVga, env: firmwareEnv });
  const bios = readImage(fw.bios, 'BIOS');
  checkBiosImage(bios, fw.bios);
  let vgaBios: Uint8Array | null = null;
  if (fw.vgaBios !== null) {
    vgaBios = readImage(fw.vgaBios, 'VGA BIOS');
    checkOptionRom(vgaBios, fw.vgaBios);
  }
  placeDrives((config.disks ?? []).length, config.cdrom !== undefined);
  const disks: BlockBackend[] = [];
  let cdrom: BlockBackend | null = null;
  try {
    for (const d of config.disks ?? []) disks.push(await openDisk(d.path, { format: d.format, readOnly: d.readOnly ?? false }));
    if (config.cdrom !== undefined) cdrom = await openCdrom(config.cdrom);
  } catch (e) {
    await Promise.allSettled(disks.map((d) => d.close()));
    throw e;
  }
  return { bios, biosPath: fw.bios, vgaBios, vgaBiosPath: fw.vgaBios, romBytes: bios.length + DEVICE_MEMORY_BYTES, disks, cdrom };
}

/** An ISO image as a read-only raw medium of whole 2048-byte blocks. */
export async function openCdrom(file: string): Promise<BlockBackend> {
  if ((await detectDiskFormat(file)) === 'qcow2') throw new BadInputError(`CD-ROM image ${file} is a qcow2 disk image, not an ISO; attach it with --disk`);
  const medium = await openDisk(file, { format: 'raw', readOnly: true });
  if (medium.size === 0 || medium.size % 2048 !== 0) {
    await medium.close();
    throw new BadInputError(`CD-ROM image ${file} is ${medium.size} bytes, not a whole number of 2048-byte sectors: not an ISO image`);
  }
  return medium;
}

function readImage(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new BadInputError(`${what} ${file} cannot be read: ${(e as Error).message}`);
  }
}
