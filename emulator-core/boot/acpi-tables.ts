/**
 * Minimal ACPI tables for direct Linux boot (firmware builds its own otherwise): RSDP,
 * RSDT, a revision-1 FADT describing the PM register block (so the guest gets the PM
 * timer and powers off through SLP_EN), a FACS, and a DSDT holding \_S5 and, when the
 * machine has a PCI bus, its root bridge \_SB.PCI0 (with ACPI on, Linux scans PCI only
 * below root bridges the DSDT declares).
 */
import { SLP_TYP_S5 } from '../devices/acpi-pm.js';

export interface AcpiLayout {
  /** Physical address of the 16-byte-aligned area the tables go into. */
  base: number;
  /** I/O base of the PM1 event/control and PM timer block. */
  pmBase: number;
  /** IRQ of the SCI. */
  sciIrq: number;
  /** Declare the PCI host bridge (bus 0) in the DSDT. */
  pciRoot?: boolean;
  /** The memory window the bridge forwards to PCI (its _CRS); without it the DSDT gives none. */
  pciWindows?: PciWindows;
  /** Add a MADT for this many CPUs (APIC IDs 0..n-1) and an I/O APIC with ID n. */
  apic?: { cpus: number; ioapicId: number; ioapicAddress: number; lapicAddress: number; levelIrqs: readonly number[] };
}

export interface PciWindows {
  /** First and last address of the PCI memory hole below 4 GiB. */
  memStart: number;
  memEnd: number;
}

export interface AcpiImage {
  /** Bytes to place at layout.base. */
  bytes: Uint8Array;
  rsdpAddr: number;
}

function checksum(b: Uint8Array, start: number, length: number, at: number): void {
  let sum = 0;
  for (let i = start; i < start + length; i++) if (i !== at) sum += b[i];
  b[at] = (256 - (sum & 0xff)) & 0xff;
}

function header(dv: DataView, off: number, signature: string, length: number, revision: number): void {
  for (let i = 0; i < 4; i++) dv.setUint8(off + i, signature.charCodeAt(i));
  dv.setUint32(off + 4, length, true);
  dv.setUint8(off + 8, revision);
  const oem = 'TERRAR';
  for (let i = 0; i < 6; i++) dv.setUint8(off + 10 + i, oem.charCodeAt(i));
  const table = 'TERRARIU';
  for (let i = 0; i < 8; i++) dv.setUint8(off + 16 + i, table.charCodeAt(i));
  dv.setUint32(off + 24, 1, true); // OEM revision
  for (let i = 0; i < 4; i++) dv.setUint8(off + 28 + i, 'TRRM'.charCodeAt(i));
  dv.setUint32(off + 32, 1, true); // creator revision
}

/** AML for: Name (\_S5, Package (4) { S5, S5, 0, 0 }) */
function s5Aml(): number[] {
  return [0x08, 0x5c, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, SLP_TYP_S5, 0x0a, SLP_TYP_S5, 0x00, 0x00];
}

const nameSeg = (name: string): number[] => name.split('').map((c) => c.charCodeAt(0));

/** An AML PkgLength followed by `contents` (the length counts its own bytes). */
function pkg(contents: number[]): number[] {
  if (contents.length + 1 <= 0x3f) return [contents.length + 1, ...contents];
  const n2 = contents.length + 2;
  if (n2 <= 0xfff) return [0x40 | (n2 & 0xf), n2 >> 4, ...contents];
  const n3 = contents.length + 3;
  return [0x80 | (n3 & 0xf), (n3 >> 4) & 0xff, n3 >> 12, ...contents];
}

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [...le16(v & 0xffff), ...le16(v >>> 16)];

/** A Word Address Space Descriptor (bus numbers or I/O): producer, fixed min and max. */
function wordSpace(type: number, typeFlags: number, min: number, max: number): number[] {
  return [0x88, 0x0d, 0x00, type, 0x0c, typeFlags, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}

/** A DWord memory range descriptor: producer, fixed, cacheable, read-write. */
function dwordMemory(min: number, max: number): number[] {
  return [0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1)];
}

/**
 * The root bridge's _CRS: bus 0-255, I/O below and above the config ports (which it decodes
 * itself), the legacy VGA window and the PCI memory hole. Without it Linux does not know
 * which ranges the bridge forwards and refuses fixed resources such as the IDE's legacy ports.
 */
function pciRootCrs(window: PciWindows): number[] {
  const template = [
    ...wordSpace(2, 0x00, 0x0000, 0x00ff),
    0x47, 0x01, ...le16(0x0cf8), ...le16(0x0cf8), 0x01, 0x08, // IO (Decode16, 0xCF8, 0xCF8, 1, 8)
    ...wordSpace(1, 0x03, 0x0000, 0x0cf7),
    ...wordSpace(1, 0x03, 0x0d00, 0xffff),
    ...dwordMemory(0x000a0000, 0x000bffff),
    ...dwordMemory(window.memStart, window.memEnd),
    0x79, 0x00, // End Tag
  ];
  const buffer = [0x11, ...pkg([0x0b, ...le16(template.length), ...template])];
  return [0x08, ...nameSeg('_CRS'), ...buffer];
}

/** AML for: Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_ADR, 0) Name (_UID, 0) [Name (_CRS, ...)] } } */
function pciRootAml(window: PciWindows | undefined): number[] {
  // EisaId("PNP0A03"): three 5-bit letters and four hex digits, stored big-endian.
  const hid = [0x41, 0xd0, 0x0a, 0x03];
  const body = [
    ...nameSeg('PCI0'),
    0x08, ...nameSeg('_HID'), 0x0c, ...hid,
    0x08, ...nameSeg('_ADR'), 0x00,
    0x08, ...nameSeg('_UID'), 0x00,
    ...(window !== undefined ? pciRootCrs(window) : []),
  ];
  const device = [0x5b, 0x82, ...pkg(body)];
  const scope = [0x5c, ...nameSeg('_SB_'), ...device];
  return [0x10, ...pkg(scope)];
}

/**
 * MADT (revision 1): the local APICs, the I/O APIC at GSI 0, IRQ0 overridden to GSI 2 (the
 * timer is on pin 2), level-triggered active-high overrides for the IRQs PCI interrupts and
 * the SCI share, and LINT1 as NMI on every processor. Flags: PCAT_COMPAT (8259s present).
 */
function madt(apic: NonNullable<AcpiLayout['apic']>): Uint8Array {
  const entries: number[] = [];
  const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  for (let i = 0; i < apic.cpus; i++) entries.push(0, 8, i, i, ...u32(1));
  entries.push(1, 12, apic.ioapicId, 0, ...u32(apic.ioapicAddress), ...u32(0));
  entries.push(2, 10, 0, 0, ...u32(2), 0, 0);
  const LEVEL_HIGH = (3 << 2) | 1;
  for (const irq of apic.levelIrqs) entries.push(2, 10, 0, irq, ...u32(irq), LEVEL_HIGH, 0);
  entries.push(4, 6, 0xff, 0, 0, 1);
  const out = new Uint8Array(44 + entries.length);
  const dv = new DataView(out.buffer);
  header(dv, 0, 'APIC', out.length, 1);
  dv.setUint32(36, apic.lapicAddress, true);
  dv.setUint32(40, 1, true);
  out.set(entries, 44);
  checksum(out, 0, out.length, 9);
  return out;
}

export function buildAcpiTables(layout: AcpiLayout): AcpiImage {
  const RSDP = 0;
  const RSDT = 0x20;
  const FADT = 0x60;
  const FACS = 0x100; // 64-byte aligned
  const DSDT = 0x140;
  const aml = [...s5Aml(), ...(layout.pciRoot === true ? pciRootAml(layout.pciWindows) : [])];
  const dsdtLen = 36 + aml.length;
  const apicTable = layout.apic !== undefined ? madt(layout.apic) : null;
  const MADT = (DSDT + dsdtLen + 15) & ~15;
  const total = apicTable !== null ? MADT + apicTable.length : DSDT + dsdtLen;
  const bytes = new Uint8Array(total);
  const dv = new DataView(bytes.buffer);
  const at = (off: number): number => layout.base + off;

  // RSDP (ACPI 1.0, 20 bytes)
  'RSD PTR '.split('').forEach((ch, i) => dv.setUint8(RSDP + i, ch.charCodeAt(0)));
  'TERRAR'.split('').forEach((ch, i) => dv.setUint8(RSDP + 9 + i, ch.charCodeAt(0)));
  dv.setUint8(RSDP + 15, 0);
  dv.setUint32(RSDP + 16, at(RSDT), true);
  checksum(bytes, RSDP, 20, RSDP + 8);

  // RSDT: the FADT, and the MADT when there are APICs
  const rsdtLen = 36 + (apicTable !== null ? 8 : 4);
  header(dv, RSDT, 'RSDT', rsdtLen, 1);
  dv.setUint32(RSDT + 36, at(FADT), true);
  if (apicTable !== null) {
    dv.setUint32(RSDT + 40, at(MADT), true);
    bytes.set(apicTable, MADT);
  }
  checksum(bytes, RSDT, rsdtLen, RSDT + 9);

  // FADT revision 1 (116 bytes)
  const fadtLen = 116;
  header(dv, FADT, 'FACP', fadtLen, 1);
  dv.setUint32(FADT + 36, at(FACS), true); // FIRMWARE_CTRL
  dv.setUint32(FADT + 40, at(DSDT), true); // DSDT
  dv.setUint8(FADT + 44, 0); // INT_MODEL (reserved in 2.0+)
  dv.setUint16(FADT + 46, layout.sciIrq, true); // SCI_INT
  dv.setUint32(FADT + 48, 0, true); // SMI_CMD: none, ACPI mode is always on
  dv.setUint32(FADT + 56, layout.pmBase, true); // PM1a_EVT_BLK
  dv.setUint32(FADT + 64, layout.pmBase + 4, true); // PM1a_CNT_BLK
  dv.setUint32(FADT + 76, layout.pmBase + 8, true); // PM_TMR_BLK
  dv.setUint8(FADT + 88, 4); // PM1_EVT_LEN
  dv.setUint8(FADT + 89, 2); // PM1_CNT_LEN
  dv.setUint8(FADT + 91, 4); // PM_TMR_LEN
  dv.setUint16(FADT + 96, 0xfff, true); // P_LVL2_LAT: C2 not supported
  dv.setUint16(FADT + 98, 0xfff, true); // P_LVL3_LAT: C3 not supported
  dv.setUint8(FADT + 108, 0); // CENTURY: no century register in CMOS
  // Flags: WBINVD, PROC_C1, SLP_BUTTON (no sleep button), RTC_S4
  dv.setUint32(FADT + 112, (1 << 0) | (1 << 2) | (1 << 5) | (1 << 7), true);
  checksum(bytes, FADT, fadtLen, FADT + 9);

  // FACS (64 bytes, no checksum)
  'FACS'.split('').forEach((ch, i) => dv.setUint8(FACS + i, ch.charCodeAt(0)));
  dv.setUint32(FACS + 4, 64, true);

  // DSDT
  header(dv, DSDT, 'DSDT', dsdtLen, 1);
  bytes.set(aml, DSDT + 36);
  checksum(bytes, DSDT, dsdtLen, DSDT + 9);

  return { bytes, rsdpAddr: at(RSDP) };
}
