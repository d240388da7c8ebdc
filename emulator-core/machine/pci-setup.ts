/**
 * What firmware does to the chipset before an OS runs, for direct Linux boots, which have
 * none: shadow RAM under 1 MiB, the PM block, PIRQ routes, the IDE channels' decoding, and
 * every device's BARs, IRQ line and decoding (SeaBIOS's pciinit does the same on firmware
 * boots). Linux keeps assignments it finds valid, and without an ACPI _PRT it takes a
 * device's IRQ from its Interrupt Line.
 */
import { PCI_BAR0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN } from '../bus/pci.js';
import type { IoBus } from '../bus/io-bus.js';
import { I440FX_PAM0 } from '../devices/i440fx.js';
import { pirqOf } from '../devices/pci-bus.js';
import { PIIX_PIRQRC } from '../devices/piix-isa.js';
import { PIIX_PMBA, PIIX_PMREGMISC } from '../devices/piix-pm.js';
import type { PciChipset } from './pci-chipset.js';

/** The ISA IRQ each PIRQ (A-D) is steered to: SeaBIOS's choice, which guests are used to. */
export const DIRECT_BOOT_PIRQ_IRQS = [10, 10, 11, 11] as const;
/** I/O ports and memory addresses handed out to BARs (below the I/O APIC at 0xFEC00000). */
const IO_WINDOW = { start: 0xc000, end: 0x10000 };
const MEM_WINDOW = { start: 0xfe000000, end: 0xfec00000 };
/** The PIIX4 SCI is wired to IRQ 9. */
const SCI_IRQ = 9;
const ELCR2_PORT = 0x4d1;
/** PIIX IDE timing registers (primary, secondary); bit 15 turns on the channel's legacy ports. */
const PIIX_IDETIM = [0x40, 0x42] as const;
const IDETIM_DECODE = 0x8000;

export function setUpPciForDirectBoot(chipset: PciChipset, io: IoBus, pmBase: number): void {
  const { bus, host, isa, pm, ide } = chipset;
  // RAM, readable and writable, at 0xC0000-0xFFFFF (where the ACPI tables go).
  host.configWrite(I440FX_PAM0, 1, 0x30);
  for (let r = I440FX_PAM0 + 1; r <= I440FX_PAM0 + 6; r++) host.configWrite(r, 1, 0x33);
  pm.configWrite(PIIX_PMBA, 4, pmBase | 1);
  pm.configWrite(PIIX_PMREGMISC, 1, 1);
  pm.configWrite(PCI_INTERRUPT_LINE, 1, SCI_IRQ);
  DIRECT_BOOT_PIRQ_IRQS.forEach((irq, n) => isa.configWrite(PIIX_PIRQRC + n, 1, irq));
  // IDE in compatibility mode: ports 0x1F0/0x3F6 and 0x170/0x376 on ISA IRQ 14 and 15, whose
  // ELCR bits stay clear (edge-triggered, as ata_piix expects); its bus-master BAR4 is set below.
  for (const reg of PIIX_IDETIM) ide.controller.configWrite(reg, 2, IDETIM_DECODE);
  // PCI interrupts are level-triggered: mark their IRQs in the slave ELCR.
  let elcr2 = 0;
  for (const irq of DIRECT_BOOT_PIRQ_IRQS) elcr2 |= 1 << (irq - 8);
  io.write(ELCR2_PORT, 1, elcr2);

  let ioNext = IO_WINDOW.start;
  let memNext = MEM_WINDOW.start;
  for (const { dev, fn } of bus.functions()) {
    if (fn === host || fn === isa || fn === pm) continue;
    let command = 0;
    for (const [n, spec] of [...fn.bars].sort((a, b) => a[0] - b[0])) {
      if (n === 6) continue; // expansion ROMs stay off: nothing runs them
      const size = Math.max(spec.size, spec.kind === 'io' ? 4 : 4096);
      if (spec.kind === 'io') {
        const base = align(ioNext, size);
        if (base + size > IO_WINDOW.end) continue;
        fn.configWrite(PCI_BAR0 + n * 4, 4, base);
        ioNext = base + size;
        command |= PCI_COMMAND_IO;
      } else {
        const base = align(memNext, size);
        if (base + size > MEM_WINDOW.end) continue;
        fn.configWrite(PCI_BAR0 + n * 4, 4, base);
        memNext = base + size;
        command |= PCI_COMMAND_MEMORY;
      }
    }
    const pin = fn.config[PCI_INTERRUPT_PIN]!;
    if (pin >= 1 && pin <= 4) fn.configWrite(PCI_INTERRUPT_LINE, 1, DIRECT_BOOT_PIRQ_IRQS[pirqOf(dev, pin)]!);
    fn.configWrite(PCI_COMMAND, 2, fn.command | command | PCI_COMMAND_MASTER);
  }
}

function align(value: number, size: number): number {
  return Math.ceil(value / size) * size;
}
