/**
 * IPv4 fragment reassembly for packets the guest sends. Bounded in datagrams and bytes,
 * incomplete datagrams time out, and overlapping fragments drop the whole datagram (as Linux
 * does since the FragmentSmack fixes), so a guest cannot make the host hold memory forever.
 */
import { copyBytes } from './bytes.js';

export interface ReassemblyLimits {
  /** Datagrams being reassembled at once (default 64). */
  maxDatagrams?: number;
  /** Fragment bytes held across all datagrams (default 4 MiB). */
  maxBytes?: number;
  /** Milliseconds an incomplete datagram is kept (default 30 s, Linux's ipfrag_time). */
  timeoutMs?: number;
}

interface Fragment {
  offset: number;
  data: Uint8Array;
}

interface Pending {
  firstSeen: number;
  fragments: Fragment[];
  bytes: number;
  /** Total payload length, known once the last fragment (MF clear) arrived; -1 before. */
  total: number;
}

const MAX_IP_PAYLOAD = 65535 - 20;
/**
 * Fragments per datagram: 64 KiB in 1480-byte fragments is 45; thousands of tiny ones are an
 * attack (each arrival is checked against every fragment held).
 */
const MAX_FRAGMENTS = 128;

export class Ipv4Reassembler {
  private readonly pending = new Map<string, Pending>();
  private heldBytes = 0;
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  readonly timeoutMs: number;
  /** Datagrams given up on (timeout, overlap, over limits). */
  dropped = 0;

  constructor(limits: ReassemblyLimits = {}) {
    this.maxDatagrams = limits.maxDatagrams ?? 64;
    this.maxBytes = limits.maxBytes ?? 4 << 20;
    this.timeoutMs = limits.timeoutMs ?? 30_000;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Add one fragment's payload (copied). Returns the whole datagram's payload once every
   * byte has arrived, otherwise null.
   */
  add(src: number, dst: number, protocol: number, id: number, offset: number, moreFragments: boolean, payload: Uint8Array, now: number): Uint8Array | null {
    const end = offset + payload.length;
    // Every fragment but the last carries a multiple of 8 bytes; nothing may pass 64 KiB.
    if (end > MAX_IP_PAYLOAD || (moreFragments && (payload.length === 0 || payload.length % 8 !== 0))) {
      this.dropped++;
      return null;
    }
    const key = `${src}/${dst}/${protocol}/${id}`;
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= this.maxDatagrams) this.evictOldest();
      entry = { firstSeen: now, fragments: [], bytes: 0, total: -1 };
      this.pending.set(key, entry);
    }
    if (!moreFragments) {
      if (entry.total !== -1 && entry.total !== end) return this.abandon(key, entry);
      entry.total = end;
    }
    if (entry.total !== -1 && end > entry.total) return this.abandon(key, entry);
    for (const f of entry.fragments) {
      const fEnd = f.offset + f.data.length;
      if (offset < fEnd && f.offset < end) {
        if (f.offset === offset && fEnd === end) return null; // an exact duplicate: ignore it
        return this.abandon(key, entry);
      }
    }
    if (this.heldBytes + payload.length > this.maxBytes || entry.fragments.length >= MAX_FRAGMENTS) return this.abandon(key, entry);
    entry.fragments.push({ offset, data: copyBytes(payload) });
    entry.bytes += payload.length;
    this.heldBytes += payload.length;
    if (entry.total === -1 || entry.bytes !== entry.total) return null;
    // No overlaps and the byte count matches the total: the fragments tile the datagram.
    const whole = new Uint8Array(entry.total);
    for (const f of entry.fragments) whole.set(f.data, f.offset);
    this.remove(key, entry);
    return whole;
  }

  /** Forget datagrams older than the timeout. */
  expire(now: number): void {
    for (const [key, entry] of this.pending) {
      if (now - entry.firstSeen >= this.timeoutMs) {
        this.remove(key, entry);
        this.dropped++;
      }
    }
  }

  clear(): void {
    this.pending.clear();
    this.heldBytes = 0;
  }

  private abandon(key: string, entry: Pending): null {
    this.remove(key, entry);
    this.dropped++;
    return null;
  }

  private remove(key: string, entry: Pending): void {
    this.heldBytes -= entry.bytes;
    this.pending.delete(key);
  }

  private evictOldest(): void {
    // Map iteration follows insertion order: the first entry is the oldest.
    const first = this.pending.entries().next();
    if (!first.done) this.abandon(first.value[0], first.value[1]);
  }
}
