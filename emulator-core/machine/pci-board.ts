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
import type { BlockBackend } from '../storage/index.js';
import { DebugCon, DEBUGCON_PORT } from '../devices/debugcon.js';
import { FwCfg, FW_CFG_BOOT_MENU, FW_CFG_IRQ0_OVERRIDE, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_NOGRAPHIC, FW_CFG_PORT_DMA, FW_CFG_PORT_SEL, FW_CFG_RAM_SIZE, FW_CFG_UUID, leInt } from '../devices/fw-cfg.js';
import type { I440fx } from '../devices/i440fx.js';
import type { PciBus } from '../devices/pci-bus.js';
import type { PiixIsa } from '../devices/piix-isa.js';
import type { PiixPm } from '../devices/piix-pm.js';
import { buildPciChipset, PCI_SLOT_PIIX, PIIX_FN_IDE, type PciChipset } from './pci-chipset.js';
import type { MachineControl } from './control.js';
import type { PcBoard } from './pc.js';
import type { Clock } from './clock.js';
import type { BootDevice, MachineConfig, ScreenUpdate } from './types.js';
import type { AtapiCdrom, IdeController } from '../devices/ide/index.js';
import { openIdeMedia, type IdeBootDevice, type IdeDrives } from './ide-drives.js';
import { StdVga } from '../devices/vga/vga.js';

/** Host milliseconds between screen refreshes sent to a listener. */
const DISPLAY_INTERVAL_MS = 33;

export { PCI_SLOT_HOST, PCI_SLOT_PIIX, PIIX_FN_ISA, PIIX_FN_IDE, PIIX_FN_PM, PCI_SLOT_VGA, PCI_SLOT_NIC } from './pci-chipset.js';
import { PCI_SLOT_VGA } from './pci-chipset.js';

export { openCdrom, placeDrives, type IdeBootDevice } from './ide-drives.js';

export interface PciPcOptions {
  board: PcBoard;
  control: MachineControl;
  clock: Clock;
  /** Disk images in config order and the CD-ROM medium (null: no CD-ROM drive). */
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
  /** Processors: SeaBIOS starts and counts them, then lists them in its MP and ACPI tables. */
  cpus: number;
}

export class PciPc {
  readonly chipset: PciChipset;
  readonly bus: PciBus;
  readonly host: I440fx;
  readonly isa: PiixIsa;
  readonly pm: PiixPm;
  readonly fwCfg: FwCfg;
  readonly drives: IdeDrives;
  readonly ide: IdeController;
  readonly cdrom: AtapiCdrom | null;
  readonly vga: StdVga;
  private refresh: ReturnType<typeof setInterval> | null = null;

  constructor(options: PciPcOptions) {
    const { board, control } = options;
    const memory = board.memory;
    const bios = options.bios;
    // The flash decodes at the top of 4 GiB; its last 128 KiB also appears below 1 MiB.
    const biosBacking = memory.mapRom(0x100000000 - bios.length, bios, 'bios');
    const lowLength = Math.min(bios.length, 0x20000);

    // The IDE controller and its drives come with the chipset, as on a direct boot.
    const media = { disks: options.disks, cdrom: options.cdrom };
    const chipset = buildPciChipset(board, control, { backing: biosBacking + bios.length - lowLength, length: lowLength }, { media, wake: options.wake, log: options.log });
    this.chipset = chipset;
    this.bus = chipset.bus;
    this.host = chipset.host;
    this.isa = chipset.isa;
    this.pm = chipset.pm;
    this.drives = chipset.ide;
    this.ide = chipset.ide.controller;
    this.cdrom = chipset.ide.cdrom;
    // SeaBIOS's tables announce S5 as sleep type 0.
    board.acpi.s5Type = 0;

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
    board.devices.push(this.vga, this.fwCfg);
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
    return this.drives.changeMedium(medium);
  }

  /** Wait for disk requests in flight, then flush and close every image. */
  async close(): Promise<void> {
    this.stopDisplay();
    await this.drives.close();
  }

  private configureFirmware(o: PciPcOptions): void {
    const fw = this.fwCfg;
    const board = o.board;
    const ram = board.memory.ramBytes;
    fw.setItem(FW_CFG_RAM_SIZE, leInt(ram, 8));
    fw.setItem(FW_CFG_NB_CPUS, leInt(o.cpus, 2));
    fw.setItem(FW_CFG_MAX_CPUS, leInt(o.cpus, 2));
    // The timer is on I/O APIC pin 2 under both backends (apic-wiring.ts, KVM's GSI routing).
    fw.setItem(FW_CFG_IRQ0_OVERRIDE, leInt(1, 4));
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

    const drives = this.drives.placed;
    if (drives.length > 0) fw.addFile('bootorder', new TextEncoder().encode(bootOrderText(o.bootOrder, drives) + '\0'));
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
export function bootOrderText(first: BootDevice, drives: readonly IdeBootDevice[]): string {
  const rank = (d: IdeBootDevice): number => (d.kind === first ? 0 : 1);
  return drives
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
    .map(({ d }) => ideDevicePath(d))
    .join('\n');
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
  const { disks, cdrom } = await openIdeMedia(config);
  return { bios, biosPath: fw.bios, vgaBios, vgaBiosPath: fw.vgaBios, romBytes: bios.length + DEVICE_MEMORY_BYTES, disks, cdrom };
}

function readImage(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new BadInputError(`${what} ${file} cannot be read: ${(e as Error).message}`);
  }
}
