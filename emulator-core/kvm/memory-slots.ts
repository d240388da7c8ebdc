/**
 * KVM memory slots that mirror GuestMemory's page map. Every run of physical pages that is
 * RAM or ROM, contiguous in both guest-physical and backing addresses, becomes one slot onto
 * the backing buffer (which JavaScript allocated: guest RAM stays an ArrayBuffer, as Electron
 * requires). MMIO and unmapped pages get no slot, so guest accesses there exit to user space
 * and reach the same bus and devices as the software CPU. The PCI hole below 4 GiB, the VGA
 * window and anything a device claims stay out automatically.
 *
 * ROM pages are ordinary writable slots unless `readonlyRom`: on PVM hosts code in a
 * KVM_MEM_READONLY slot stalls, so firmware there runs from writable memory holding the
 * image, as a shadowed BIOS does.
 */
import { PAGE_KIND_MASK, PAGE_RAM, PAGE_ROM, PHYS_PAGES, type GuestMemory } from '../memory/guest-memory.js';
import { MEM_READONLY } from './abi.js';
import { KvmError } from './errors.js';
import type { MemorySlot } from './kvm.js';

export interface SlotRange {
  guestPhys: number;
  size: number;
  /** Byte offset in the guest memory's backing buffer. */
  backing: number;
  flags: number;
}

/** The slot layout the page map calls for. */
export function slotRanges(mem: GuestMemory, readonlyRom: boolean): SlotRange[] {
  const map = mem.pageMap;
  const out: SlotRange[] = [];
  let start = -1;
  let startBacking = 0;
  let flags = 0;
  let prevBacking = -2;
  const close = (endPage: number): void => {
    if (start >= 0) out.push({ guestPhys: start * 4096, size: (endPage - start) * 4096, backing: startBacking * 4096, flags });
    start = -1;
  };
  for (let page = 0; page < PHYS_PAGES; page++) {
    const e = map[page];
    const kind = e & PAGE_KIND_MASK;
    if (kind !== PAGE_RAM && kind !== PAGE_ROM) {
      close(page);
      continue;
    }
    const backing = e >>> 8;
    const f = kind === PAGE_ROM && readonlyRom ? MEM_READONLY : 0;
    if (start >= 0 && backing === prevBacking + 1 && f === flags) {
      prevBacking = backing;
      continue;
    }
    close(page);
    start = page;
    startBacking = backing;
    prevBacking = backing;
    flags = f;
  }
  close(PHYS_PAGES);
  return out;
}

export interface SlotTarget {
  setMemorySlot(slot: MemorySlot): void;
}

/** Keeps a VM's slots equal to slotRanges(), changing only what moved. */
export class SlotMap {
  private readonly live = new Map<string, { slot: number; range: SlotRange }>();
  private readonly free: number[] = [];
  private nextSlot = 0;

  constructor(
    private readonly vm: SlotTarget,
    private readonly mem: GuestMemory,
    /** Host address of the backing buffer's first byte (page aligned). */
    private readonly hostBase: number,
    private readonly readonlyRom: boolean,
    private readonly maxSlots: number,
  ) {
    if (hostBase % 4096 !== 0) throw new KvmError(`guest memory is not page aligned (0x${hostBase.toString(16)})`, 'KVM_SET_USER_MEMORY_REGION', 0);
  }

  get slots(): SlotRange[] {
    return [...this.live.values()].map((v) => v.range).sort((a, b) => a.guestPhys - b.guestPhys);
  }

  sync(): void {
    const wanted = new Map<string, SlotRange>();
    for (const r of slotRanges(this.mem, this.readonlyRom)) wanted.set(`${r.guestPhys}:${r.size}:${r.backing}:${r.flags}`, r);
    // Delete first: KVM refuses overlapping slots.
    for (const [key, v] of this.live) {
      if (wanted.has(key)) continue;
      this.vm.setMemorySlot({ slot: v.slot, flags: 0, guestPhys: v.range.guestPhys, size: 0, hostAddr: 0 });
      this.live.delete(key);
      this.free.push(v.slot);
    }
    for (const [key, r] of wanted) {
      if (this.live.has(key)) continue;
      const slot = this.free.pop() ?? this.nextSlot++;
      if (slot >= this.maxSlots) throw new KvmError(`guest memory needs more than ${this.maxSlots} KVM memory slots`, 'KVM_SET_USER_MEMORY_REGION', 0);
      this.vm.setMemorySlot({ slot, flags: r.flags, guestPhys: r.guestPhys, size: r.size, hostAddr: this.hostBase + r.backing });
      this.live.set(key, { slot, range: r });
    }
  }
}
