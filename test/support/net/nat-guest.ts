/**
 * A frame-level fake guest for NAT tests: builds the Ethernet/ARP/IPv4/UDP/ICMP/DHCP frames a
 * guest would send, written here independently of the NAT's own builders, and receives what
 * the NAT delivers (as the NIC would), checking every checksum it sees.
 */
import type { NetPort } from '../../../emulator-core/net/link.js';
import type { HostListener, HostNetwork, HostUdpSocket } from '../../../emulator-core/net/host-network.js';
import type { TcpHostStream } from '../../../emulator-core/net/tcp/api.js';
import { internetChecksum, onesSum, finishChecksum, pseudoHeaderSum } from '../../../emulator-core/net/checksum.js';

export const GUEST_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
export const GATEWAY_MAC = [0x52, 0x55, 0x0a, 0x00, 0x02, 0x02];
export const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

export const ip = (text: string): number => text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
export const ipText = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
export const GUEST = ip('10.0.2.15');
export const GATEWAY = ip('10.0.2.2');
export const DNS = ip('10.0.2.3');

export function ethernet(dst: number[], src: number[], type: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  frame.set(dst, 0);
  frame.set(src, 6);
  frame[12] = type >> 8;
  frame[13] = type & 255;
  frame.set(payload, 14);
  return frame;
}

export interface IpOptions {
  id?: number;
  ttl?: number;
  moreFragments?: boolean;
  /** Bytes; a multiple of 8. */
  fragmentOffset?: number;
}

export function ipv4(src: number, dst: number, protocol: number, payload: Uint8Array, o: IpOptions = {}): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x45;
  dv.setUint16(2, p.length);
  dv.setUint16(4, o.id ?? 1);
  dv.setUint16(6, (o.moreFragments ? 0x2000 : 0) | ((o.fragmentOffset ?? 0) / 8));
  p[8] = o.ttl ?? 64;
  p[9] = protocol;
  dv.setUint32(12, src);
  dv.setUint32(16, dst);
  dv.setUint16(10, internetChecksum(p, 0, 20));
  p.set(payload, 20);
  return p;
}

export function udp(src: number, srcPort: number, dst: number, dstPort: number, data: Uint8Array): Uint8Array {
  const d = new Uint8Array(8 + data.length);
  const dv = new DataView(d.buffer);
  dv.setUint16(0, srcPort);
  dv.setUint16(2, dstPort);
  dv.setUint16(4, d.length);
  d.set(data, 8);
  const sum = finishChecksum(onesSum(d, 0, d.length, pseudoHeaderSum(src, dst, 17, d.length)));
  dv.setUint16(6, sum === 0 ? 0xffff : sum);
  return d;
}

/** A whole UDP frame from the guest. */
export function udpFrame(src: number, srcPort: number, dst: number, dstPort: number, data: Uint8Array, dstMac = GATEWAY_MAC): Uint8Array {
  return ethernet(dstMac, GUEST_MAC, 0x0800, ipv4(src, dst, 17, udp(src, srcPort, dst, dstPort, data)));
}

export function icmpEcho(id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = 8;
  m[4] = id >> 8;
  m[5] = id & 255;
  m[6] = seq >> 8;
  m[7] = seq & 255;
  m.set(data, 8);
  const sum = internetChecksum(m);
  m[2] = sum >> 8;
  m[3] = sum & 255;
  return m;
}

export function arpRequest(senderIp: number, targetIp: number): Uint8Array {
  const a = new Uint8Array(28);
  const dv = new DataView(a.buffer);
  dv.setUint16(0, 1);
  dv.setUint16(2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  dv.setUint16(6, 1);
  a.set(GUEST_MAC, 8);
  dv.setUint32(14, senderIp);
  dv.setUint32(24, targetIp);
  return ethernet(BROADCAST, GUEST_MAC, 0x0806, a);
}

/** A DHCP client message (BOOTREQUEST) with the given options (code -> bytes). */
export function dhcpMessage(type: number, xid: number, options: [number, number[]][] = [], ciaddr = 0): Uint8Array {
  const m = new Uint8Array(300);
  const dv = new DataView(m.buffer);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  dv.setUint32(4, xid);
  dv.setUint32(12, ciaddr);
  m.set(GUEST_MAC, 28);
  dv.setUint32(236, 0x63825363);
  let at = 240;
  for (const [code, bytes] of [[53, [type]] as [number, number[]], ...options]) {
    m[at++] = code;
    m[at++] = bytes.length;
    for (const b of bytes) m[at++] = b;
  }
  m[at] = 255;
  return m;
}

export const ipBytes = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

export interface ReceivedFrame {
  dstMac: number[];
  srcMac: number[];
  type: number;
  bytes: Uint8Array;
  ip?: { src: number; dst: number; protocol: number; ttl: number; id: number; moreFragments: boolean; fragmentOffset: number; payload: Uint8Array };
  udp?: { srcPort: number; dstPort: number; data: Uint8Array };
}

/** Parse a frame the NAT sent; throws when any checksum is wrong (so a test cannot miss it). */
export function parseFrame(bytes: Uint8Array): ReceivedFrame {
  const frame: ReceivedFrame = { dstMac: [...bytes.subarray(0, 6)], srcMac: [...bytes.subarray(6, 12)], type: (bytes[12] << 8) | bytes[13], bytes };
  if (frame.type !== 0x0800) return frame;
  const p = bytes.subarray(14);
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const hl = (p[0] & 15) * 4;
  if (internetChecksum(p, 0, hl) !== 0) throw new Error('bad IPv4 header checksum');
  const total = dv.getUint16(2);
  const flags = dv.getUint16(6);
  frame.ip = {
    src: dv.getUint32(12),
    dst: dv.getUint32(16),
    protocol: p[9],
    ttl: p[8],
    id: dv.getUint16(4),
    moreFragments: (flags & 0x2000) !== 0,
    fragmentOffset: (flags & 0x1fff) * 8,
    payload: p.subarray(hl, total),
  };
  const payload = frame.ip.payload;
  const whole = !frame.ip.moreFragments && frame.ip.fragmentOffset === 0;
  if (frame.ip.protocol === 17 && whole) {
    const pdv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const length = pdv.getUint16(4);
    if (finishChecksum(onesSum(payload, 0, length, pseudoHeaderSum(frame.ip.src, frame.ip.dst, 17, length))) !== 0) throw new Error('bad UDP checksum');
    frame.udp = { srcPort: pdv.getUint16(0), dstPort: pdv.getUint16(2), data: payload.subarray(8, length) };
  }
  if (frame.ip.protocol === 1 && whole && internetChecksum(payload) !== 0) throw new Error('bad ICMP checksum');
  return frame;
}

/** The NIC side of the link: keeps every frame delivered, or refuses them while `full`. */
export class FakeNic implements NetPort {
  readonly frames: ReceivedFrame[] = [];
  full = false;
  refused = 0;
  /** Consumers that take frames before they are kept (return true when a frame was theirs). */
  readonly listeners: ((frame: ReceivedFrame) => boolean)[] = [];

  deliver(frame: Uint8Array): boolean {
    if (this.full) {
      this.refused++;
      return false;
    }
    const parsed = parseFrame(frame.slice());
    if (!this.listeners.some((take) => take(parsed))) this.frames.push(parsed);
    return true;
  }

  /** Remove and return the frames received so far. */
  take(): ReceivedFrame[] {
    return this.frames.splice(0);
  }

  /** Wait (real time) until a received frame matches; it is removed and returned. */
  async waitFor(match: (f: ReceivedFrame) => boolean, timeoutMs = 3000): Promise<ReceivedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** Options of a DHCP reply, code -> bytes. */
export function dhcpOptions(message: Uint8Array): Map<number, number[]> {
  const options = new Map<number, number[]>();
  for (let at = 240; at < message.length; ) {
    const code = message[at++];
    if (code === 0) continue;
    if (code === 255) break;
    const len = message[at++];
    options.set(code, [...message.subarray(at, at + len)]);
    at += len;
  }
  return options;
}

/** A host network that opens nothing and records what the NAT asked for. */
export class RecordingHostNetwork implements HostNetwork {
  readonly calls: string[] = [];
  addresses = ['192.168.1.5'];

  connectTcp(host: string, port: number): Promise<TcpHostStream> {
    this.calls.push(`connect ${host}:${port}`);
    return Promise.reject(new Error('refused by the test'));
  }

  listenTcp(address: string, port: number): Promise<HostListener> {
    this.calls.push(`listen ${address}:${port}`);
    return Promise.resolve({ close: () => this.calls.push(`unlisten ${address}:${port}`) });
  }

  bindUdp(family: 4 | 6, address: string, port: number): Promise<HostUdpSocket> {
    this.calls.push(`bind udp${family} ${address}:${port}`);
    return Promise.reject(new Error('no sockets in this test'));
  }

  hostAddresses(): string[] {
    return this.addresses;
  }
}

/** A TCP segment (no options but MSS on SYN) from src to dst, checksum filled in. */
export function tcp(
  src: number,
  dst: number,
  f: { srcPort: number; dstPort: number; seq: number; ack: number; flags: number; window?: number },
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const syn = (f.flags & 2) !== 0;
  const hl = syn ? 24 : 20;
  const s = new Uint8Array(hl + data.length);
  const dv = new DataView(s.buffer);
  dv.setUint16(0, f.srcPort);
  dv.setUint16(2, f.dstPort);
  dv.setUint32(4, f.seq >>> 0);
  dv.setUint32(8, f.ack >>> 0);
  s[12] = (hl / 4) << 4;
  s[13] = f.flags;
  dv.setUint16(14, f.window ?? 65535);
  if (syn) s.set([2, 4, 0x05, 0xb4], 20);
  s.set(data, hl);
  dv.setUint16(16, finishChecksum(onesSum(s, 0, s.length, pseudoHeaderSum(src, dst, 6, s.length))));
  return s;
}

export interface TcpSeen {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  data: Uint8Array;
}

/** Parse a TCP segment the NAT sent, checking its checksum. */
export function parseTcp(frame: ReceivedFrame): TcpSeen {
  if (!frame.ip || frame.ip.protocol !== 6) throw new Error('not a TCP frame');
  const s = frame.ip.payload;
  if (finishChecksum(onesSum(s, 0, s.length, pseudoHeaderSum(frame.ip.src, frame.ip.dst, 6, s.length))) !== 0) throw new Error('bad TCP checksum');
  const dv = new DataView(s.buffer, s.byteOffset, s.byteLength);
  return { srcPort: dv.getUint16(0), dstPort: dv.getUint16(2), seq: dv.getUint32(4), ack: dv.getUint32(8), flags: s[13] & 0x3f, data: s.subarray((s[12] >> 4) * 4) };
}

/**
 * A minimal guest TCP endpoint for coarse end-to-end tests over a lossless in-memory link:
 * in-order data only, an ACK for everything, a fixed 64 KiB window. It answers from a
 * microtask, as a guest would answer after the NIC's interrupt, never inside deliver().
 */
export class MiniTcp {
  readonly received: Uint8Array[] = [];
  established = false;
  finReceived = false;
  reset = false;
  private rcvNxt = 0;
  private sndNxt = 0x10000000;
  private remotePort = 0;

  constructor(
    private readonly transmit: (frame: Uint8Array) => void,
    nic: FakeNic,
    private readonly localPort: number,
    private readonly remoteIp: number,
    remotePort = 0,
  ) {
    this.remotePort = remotePort;
    nic.listeners.push((f) => this.take(f));
  }

  get receivedBytes(): number {
    return this.received.reduce((n, c) => n + c.length, 0);
  }

  connect(): void {
    this.send(2, new Uint8Array(0));
    this.sndNxt++;
  }

  write(data: Uint8Array): void {
    for (let at = 0; at < data.length; at += 1460) {
      const chunk = data.subarray(at, Math.min(data.length, at + 1460));
      this.send(0x18, chunk);
      this.sndNxt += chunk.length;
    }
  }

  close(): void {
    this.send(0x11, new Uint8Array(0));
    this.sndNxt++;
  }

  private take(frame: ReceivedFrame): boolean {
    if (!frame.ip || frame.ip.protocol !== 6 || frame.ip.src !== this.remoteIp) return false;
    const seg = parseTcp(frame);
    if (seg.dstPort !== this.localPort || (this.remotePort !== 0 && seg.srcPort !== this.remotePort)) return false;
    const flags = seg.flags;
    queueMicrotask(() => {
      if (flags & 4) {
        this.reset = true;
        return;
      }
      if (flags & 2) {
        // SYN-ACK to our SYN, or a SYN toward a listening guest (a port forward).
        this.remotePort = seg.srcPort;
        this.rcvNxt = (seg.seq + 1) >>> 0;
        if (flags & 0x10) this.send(0x10, new Uint8Array(0));
        else {
          this.send(0x12, new Uint8Array(0));
          this.sndNxt++;
        }
        this.established = true;
        return;
      }
      if (seg.seq === this.rcvNxt) {
        if (seg.data.length > 0) this.received.push(seg.data.slice());
        this.rcvNxt = (this.rcvNxt + seg.data.length) >>> 0;
        if (flags & 1) {
          this.rcvNxt = (this.rcvNxt + 1) >>> 0;
          this.finReceived = true;
        }
      }
      if (seg.data.length > 0 || flags & 1) this.send(0x10, new Uint8Array(0));
    });
    return true;
  }

  private send(flags: number, data: Uint8Array): void {
    const seg = tcp(GUEST, this.remoteIp, { srcPort: this.localPort, dstPort: this.remotePort, seq: this.sndNxt, ack: flags & 0x10 ? this.rcvNxt : 0, flags }, data);
    this.transmit(ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, ipv4(GUEST, this.remoteIp, 6, seg)));
  }
}

/** Wait (real time) until `done()` holds. */
export async function until(done: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
