/**
 * The NAT's path toward the guest: wraps IPv4 packets in Ethernet frames addressed to the
 * guest's MAC, fragments oversized datagrams, and queues frames the NIC cannot take yet.
 * The queue is bounded: stream traffic (TCP, whose sender retransmits and whose windows bound
 * what is in flight) may fill it to the cap, datagrams only to half of it, and the rest is dropped.
 */
import type { NetPort } from './link.js';
import { DNS_IP, GATEWAY_MAC, DNS_MAC, BROADCAST_MAC, LIMITED_BROADCAST, NAT_BROADCAST } from './addresses.js';
import { ETH_HEADER_LENGTH, ETHERTYPE_IPV4, MAX_FRAME_LENGTH, MTU, writeEthernetHeader } from './ethernet.js';
import { IPV4_HEADER_LENGTH, writeIpv4Header } from './ipv4.js';
import { copyBytes } from './bytes.js';

/** 'stream': its sender retransmits (TCP). 'datagram': UDP, ICMP, ARP, DHCP: dropped first. */
export type TrafficClass = 'stream' | 'datagram';

export interface GuestLinkOptions {
  /** The NIC's configured MAC: where frames go for addresses not yet learned. */
  guestMac: Uint8Array;
  /** Bytes of frames held for the guest at most (default 2 MiB). */
  queueBytes?: number;
}

export interface GuestLinkCounters {
  framesToGuest: number;
  bytesToGuest: number;
  /** Frames dropped because the queue toward the guest was full. */
  queueDrops: number;
  queuedFrames: number;
  queuedBytes: number;
  peakQueuedBytes: number;
}

const MAX_LEARNED = 64;
/** Payload bytes per fragment: the MTU less the header, rounded down to a multiple of 8. */
const FRAGMENT_PAYLOAD = (MTU - IPV4_HEADER_LENGTH) & ~7;

export class GuestLink {
  private port: NetPort | null = null;
  private readonly defaultMac: Uint8Array;
  private readonly learned = new Map<number, Uint8Array>();
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;
  private readonly capBytes: number;
  private flushing = false;
  private nextId = 1;
  private readonly scratch = new Uint8Array(MAX_FRAME_LENGTH);
  readonly counters: GuestLinkCounters = {
    framesToGuest: 0,
    bytesToGuest: 0,
    queueDrops: 0,
    queuedFrames: 0,
    queuedBytes: 0,
    peakQueuedBytes: 0,
  };

  constructor(options: GuestLinkOptions) {
    this.defaultMac = copyBytes(options.guestMac);
    this.capBytes = options.queueBytes ?? 2 << 20;
  }

  attach(port: NetPort): void {
    this.port = port;
    this.flush();
  }

  /** Remember which MAC the guest uses for `ip` (from its ARP and IPv4 frames). */
  learn(ip: number, frame: Uint8Array, macOffset: number): void {
    const known = this.learned.get(ip);
    if (known) {
      for (let i = 0; i < 6; i++) known[i] = frame[macOffset + i];
      return;
    }
    if (this.learned.size >= MAX_LEARNED) this.learned.delete(this.learned.keys().next().value as number);
    this.learned.set(ip, copyBytes(frame, macOffset, macOffset + 6));
  }

  macFor(ip: number): Uint8Array {
    if (ip === LIMITED_BROADCAST || ip === NAT_BROADCAST) return BROADCAST_MAC;
    return this.learned.get(ip) ?? this.defaultMac;
  }

  /**
   * Send one IPv4 packet whose payload is `head` (a transport header, may be empty) followed by
   * `body`. Packets over the MTU are fragmented unless `dontFragment`, then they are dropped.
   * `dstMac` overrides the learned MAC (DHCP answers a client by its hardware address).
   */
  sendIpv4(
    src: number,
    dst: number,
    protocol: number,
    head: Uint8Array,
    body: Uint8Array,
    traffic: TrafficClass,
    dontFragment = false,
    dstMac: Uint8Array = this.macFor(dst),
  ): void {
    const payloadLength = head.length + body.length;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0xffff;
    const srcMac = src === DNS_IP ? DNS_MAC : GATEWAY_MAC;
    if (IPV4_HEADER_LENGTH + payloadLength <= MTU) {
      const length = ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH + payloadLength;
      const frame = this.frameBuffer(length, traffic);
      if (!frame) return;
      writeEthernetHeader(frame, dstMac, srcMac, ETHERTYPE_IPV4);
      writeIpv4Header(frame, ETH_HEADER_LENGTH, { src, dst, protocol, id, payloadLength, dontFragment });
      const at = ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH;
      frame.set(head, at);
      frame.set(body, at + head.length);
      this.emit(frame, length, traffic);
      return;
    }
    if (dontFragment) return;
    for (let offset = 0; offset < payloadLength; offset += FRAGMENT_PAYLOAD) {
      const chunk = Math.min(FRAGMENT_PAYLOAD, payloadLength - offset);
      const length = ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH + chunk;
      const frame = this.frameBuffer(length, traffic);
      if (!frame) return; // the rest would be useless without this fragment
      writeEthernetHeader(frame, dstMac, srcMac, ETHERTYPE_IPV4);
      const moreFragments = offset + chunk < payloadLength;
      writeIpv4Header(frame, ETH_HEADER_LENGTH, { src, dst, protocol, id, payloadLength: chunk, moreFragments, fragmentOffset: offset });
      copyConcatenated(head, body, offset, chunk, frame, ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH);
      this.emit(frame, length, traffic);
    }
  }

  /** Send a frame built elsewhere (ARP replies). */
  sendFrame(frame: Uint8Array, traffic: TrafficClass): void {
    const buffer = this.frameBuffer(frame.length, traffic);
    if (!buffer) return;
    buffer.set(frame);
    this.emit(buffer, frame.length, traffic);
  }

  /** The NIC has room again: deliver queued frames in order until it refuses. */
  flush(): void {
    const port = this.port;
    if (!port || this.flushing) return;
    this.flushing = true;
    try {
      while (this.queueHead < this.queue.length) {
        const frame = this.queue[this.queueHead];
        if (!port.deliver(frame)) break;
        this.queue[this.queueHead++] = EMPTY;
        this.counters.queuedFrames--;
        this.counters.queuedBytes -= frame.length;
        this.count(frame.length);
      }
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
    } finally {
      this.flushing = false;
    }
  }

  clear(): void {
    this.queue.length = 0;
    this.queueHead = 0;
    this.counters.queuedFrames = 0;
    this.counters.queuedBytes = 0;
  }

  /**
   * Where to build a frame of `length` bytes: the scratch buffer when it can go straight to
   * the NIC, a new array when it must queue, null when the queue has no room for it.
   */
  private frameBuffer(length: number, traffic: TrafficClass): Uint8Array | null {
    if (this.port && this.queueHead === this.queue.length && !this.flushing && length <= this.scratch.length) return this.scratch;
    const limit = traffic === 'stream' ? this.capBytes : this.capBytes >> 1;
    if (this.counters.queuedBytes + length > limit) {
      this.counters.queueDrops++;
      return null;
    }
    return new Uint8Array(length);
  }

  private emit(buffer: Uint8Array, length: number, traffic: TrafficClass): void {
    if (buffer === this.scratch) {
      const frame = buffer.subarray(0, length);
      // A frame sent while the NIC is inside deliver() must not reuse the scratch buffer.
      this.flushing = true;
      let delivered: boolean;
      try {
        delivered = this.port?.deliver(frame) ?? false;
      } finally {
        this.flushing = false;
      }
      if (delivered) {
        this.count(length);
        if (this.queueHead < this.queue.length) this.flush();
        return;
      }
      const limit = traffic === 'stream' ? this.capBytes : this.capBytes >> 1;
      if (this.counters.queuedBytes + length > limit) {
        this.counters.queueDrops++;
        return;
      }
      this.enqueue(frame.slice());
      return;
    }
    this.enqueue(buffer);
  }

  private enqueue(frame: Uint8Array): void {
    this.queue.push(frame);
    this.counters.queuedFrames++;
    this.counters.queuedBytes += frame.length;
    if (this.counters.queuedBytes > this.counters.peakQueuedBytes) this.counters.peakQueuedBytes = this.counters.queuedBytes;
  }

  private count(length: number): void {
    this.counters.framesToGuest++;
    this.counters.bytesToGuest += length;
  }
}

const EMPTY = new Uint8Array(0);

/** Copy `length` bytes starting at `offset` of head+body into `dest` at `at`. */
function copyConcatenated(head: Uint8Array, body: Uint8Array, offset: number, length: number, dest: Uint8Array, at: number): void {
  const end = offset + length;
  if (offset < head.length) {
    const fromHead = head.subarray(offset, Math.min(end, head.length));
    dest.set(fromHead, at);
    at += fromHead.length;
  }
  if (end > head.length) dest.set(body.subarray(Math.max(0, offset - head.length), end - head.length), at);
}
