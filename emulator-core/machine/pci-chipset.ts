/**
 * The i440FX/PIIX chipset every PC here has, with or without firmware: the PCI bus (config
 * mechanism #1), the host bridge, the PIIX3 ISA bridge (PIRQ routing), the PIIX IDE
 * controller with the machine's drives (ide-drives.ts) and PIIX4 power management.
 * Firmware boots add the BIOS flash, VGA and fw_cfg (pci-board.ts); direct
 * Linux boots program the chipset themselves (pci-setup.ts).
 *
 * Slots follow QEMU's "pc" machine, which SeaBIOS and guests know: 00.0 host bridge,
 * 01.0 ISA bridge, 01.1 IDE, 01.3 power management, 02.0 VGA, 03.0 the first NIC.
 */
import { I440fx } from '../devices/i440fx.js';
import { PciBus, PCI_CONFIG_ADDRESS } from '../devices/pci-bus.js';
import { PiixIsa } from '../devices/piix-isa.js';
import { PiixPm } from '../devices/piix-pm.js';
import { PM_BLOCK_SIZE } from '../devices/acpi-pm.js';
import type { MachineControl } from './control.js';
import { IdeDrives, type IdeDrivesOptions } from './ide-drives.js';
import type { PcBoard } from './pc.js';

export const PCI_SLOT_HOST = 0;
export const PCI_SLOT_PIIX = 1;
export const PIIX_FN_ISA = 0;
export const PIIX_FN_IDE = 1;
export const PIIX_FN_PM = 3;
export const PCI_SLOT_VGA = 2;
export const PCI_SLOT_NIC = 3;

export interface PciChipset {
  bus: PciBus;
  host: I440fx;
  isa: PiixIsa;
  pm: PiixPm;
  /** The IDE function and its drives. */
  ide: IdeDrives;
}

/**
 * Build the chipset on `board` and add it to the board's devices. `biosLow` is where the
 * flash's last 128 KiB sit in the backing buffer (decoded below 1 MiB); null without firmware.
 * `drives` are the opened images the IDE controller gets.
 */
export function buildPciChipset(
  board: PcBoard,
  control: MachineControl,
  biosLow: { backing: number; length: number } | null,
  drives: IdeDrivesOptions,
): PciChipset {
  const memory = board.memory;
  const bus = new PciBus(board.io, memory, control);
  board.io.register(PCI_CONFIG_ADDRESS, 8, bus, 'pci');
  const host = new I440fx({ memory, biosLowBacking: biosLow?.backing ?? -1, biosLowLength: biosLow?.length ?? 0 });
  bus.add(PCI_SLOT_HOST, 0, host);
  const isa = new PiixIsa(board.irqRouter);
  bus.add(PCI_SLOT_PIIX, PIIX_FN_ISA, isa);
  bus.pirqSink = isa;
  const ide = new IdeDrives(board, drives);
  bus.add(PCI_SLOT_PIIX, PIIX_FN_IDE, ide.controller);
  // The PM block moves from its fixed power-on address to wherever PMBA puts it.
  board.io.unregister(board.acpi.base, PM_BLOCK_SIZE);
  const pm = new PiixPm(board.io, board.acpi);
  bus.add(PCI_SLOT_PIIX, PIIX_FN_PM, pm);
  board.devices.push(bus, host, isa, pm, ide.controller);
  return { bus, host, isa, pm, ide };
}
