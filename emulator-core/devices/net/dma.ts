/**
 * The NIC's bus-master accesses to guest memory. Descriptor rings and buffers carry 64-bit
 * addresses; guest memory ends below 4 GiB, so an address with a high half reads as all
 * ones and swallows writes, as a master abort would.
 */
import { PAGE_SIZE, type GuestMemory } from '../../memory/guest-memory.js';

/** A 64-bit bus address from its halves, or -1 when it lies above 4 GiB. */
export function busAddress(low: number, high: number): number {
  return high === 0 ? low >>> 0 : -1;
}

/** Copy `target.length` bytes from guest physical `phys` into `target` (no allocation). */
export function dmaRead(memory: GuestMemory, phys: number, target: Uint8Array): void {
  if (phys < 0) {
    target.fill(0xff);
    return;
  }
  for (let done = 0; done < target.length; ) {
    const p = (phys + done) >>> 0;
    const chunk = Math.min(target.length - done, PAGE_SIZE - (p & (PAGE_SIZE - 1)));
    const off = memory.backingOffset(p);
    if (off >= 0) target.set(memory.u8.subarray(off, off + chunk), done);
    else for (let i = 0; i < chunk; i++) target[done + i] = memory.read8(p + i);
    done += chunk;
  }
}

export function dmaWrite(memory: GuestMemory, phys: number, data: Uint8Array): void {
  if (phys >= 0) memory.writeBytes(phys, data);
}
