/**
 * The NAT's DHCP server (RFC 2131): leases 10.0.2.15 first, then .16 to .30 for further MACs,
 * with router 10.0.2.2, DNS 10.0.2.3, mask 255.255.255.0 and a one-day lease; server id 10.0.2.2.
 * Answers to clients without an address are broadcast, which every client accepts whether it
 * listens on a raw socket (busybox udhcpc, ISC dhclient) or not.
 */
import {
  DNS_IP,
  FIRST_GUEST_IP,
  GATEWAY_IP,
  LIMITED_BROADCAST,
  NAT_BROADCAST,
  NAT_NETMASK,
  BROADCAST_MAC,
  formatMac,
  readIpv4,
  writeIpv4,
} from './addresses.js';
import { copyBytes } from './bytes.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

export const OPT_SUBNET_MASK = 1;
export const OPT_ROUTER = 3;
export const OPT_DNS = 6;
export const OPT_BROADCAST = 28;
export const OPT_REQUESTED_IP = 50;
export const OPT_LEASE_TIME = 51;
export const OPT_MESSAGE_TYPE = 53;
export const OPT_SERVER_ID = 54;
export const OPT_RENEWAL_TIME = 58;
export const OPT_REBINDING_TIME = 59;

export const LEASE_SECONDS = 86_400;
const POOL_SIZE = 16;
/** How long an offered address stays reserved for the client it was offered to. */
const OFFER_HOLD_MS = 60_000;
const MAGIC_COOKIE = 0x63825363;
const OPTIONS_AT = 240;
/** BOOTP's minimum message (RFC 1542): some clients drop shorter ones. */
const MIN_MESSAGE = 300;

export interface DhcpReply {
  message: Uint8Array;
  dstIp: number;
  dstMac: Uint8Array;
}

interface Lease {
  ip: number;
  expires: number;
  bound: boolean;
}

interface Request {
  type: number;
  xid: Uint8Array;
  flags: number;
  ciaddr: number;
  giaddr: number;
  chaddr: Uint8Array;
  requestedIp: number;
  serverId: number;
}

export interface DhcpServerEvents {
  /** An address was acknowledged to a client. */
  bound?(ip: number, mac: string): void;
  /** A client released or declined its address. */
  released?(ip: number, mac: string): void;
}

export class DhcpServer {
  private readonly leases = new Map<string, Lease>();
  private readonly declined = new Set<number>();

  constructor(
    private readonly now: () => number,
    private readonly events: DhcpServerEvents = {},
  ) {}

  /** Clients with an offer or lease held (at most the pool's size, plus expired ones until the next DISCOVER). */
  get clients(): number {
    return this.leases.size;
  }

  /** The address bound to this MAC ("aa:bb:..."), or null. */
  boundAddress(mac: string): number | null {
    const lease = this.leases.get(mac);
    return lease?.bound && lease.expires > this.now() ? lease.ip : null;
  }

  /** Handle one message sent to port 67; the reply to send, or null. */
  handle(data: Uint8Array): DhcpReply | null {
    const request = parseRequest(data);
    if (!request) return null;
    const mac = formatMac(request.chaddr);
    const now = this.now();
    switch (request.type) {
      case DHCPDISCOVER: {
        this.forgetExpired(now);
        const ip = this.allocate(mac, request.requestedIp, now);
        if (ip === null) return null; // pool exhausted: stay silent, as RFC 2131 allows
        this.leases.set(mac, { ip, expires: now + OFFER_HOLD_MS, bound: false });
        return this.reply(request, DHCPOFFER, ip);
      }
      case DHCPREQUEST: {
        let wanted: number;
        if (request.serverId !== 0) {
          // SELECTING: the client picked an offer; if it is not ours, forget our offer.
          if (request.serverId !== GATEWAY_IP) {
            const lease = this.leases.get(mac);
            if (lease && !lease.bound) this.leases.delete(mac);
            return null;
          }
          wanted = request.requestedIp || request.ciaddr;
        } else {
          // INIT-REBOOT names the address in option 50; RENEWING and REBINDING in ciaddr.
          wanted = request.requestedIp || request.ciaddr;
        }
        if (wanted === 0) return null;
        if (!this.available(mac, wanted, now)) return this.reply(request, DHCPNAK, 0);
        this.leases.set(mac, { ip: wanted, expires: now + LEASE_SECONDS * 1000, bound: true });
        this.events.bound?.(wanted, mac);
        return this.reply(request, DHCPACK, wanted);
      }
      case DHCPDECLINE: {
        // The client found the address in use (ARP): never offer it again.
        if (request.serverId !== GATEWAY_IP || !this.inPool(request.requestedIp)) return null;
        this.declined.add(request.requestedIp);
        this.drop(mac, request.requestedIp);
        return null;
      }
      case DHCPRELEASE:
        this.drop(mac, request.ciaddr);
        return null;
      case DHCPINFORM:
        if (request.ciaddr === 0) return null;
        return this.reply(request, DHCPACK, 0);
      default:
        return null;
    }
  }

  private drop(mac: string, ip: number): void {
    const lease = this.leases.get(mac);
    if (!lease || lease.ip !== ip) return;
    this.leases.delete(mac);
    if (lease.bound) this.events.released?.(ip, mac);
  }

  /** A guest inventing MACs must not grow the table: expired offers and leases go. */
  private forgetExpired(now: number): void {
    for (const [mac, lease] of this.leases) if (lease.expires <= now) this.leases.delete(mac);
  }

  private inPool(ip: number): boolean {
    return ip >= FIRST_GUEST_IP && ip < FIRST_GUEST_IP + POOL_SIZE && !this.declined.has(ip);
  }

  /** Whether `ip` may be given to `mac`: in the pool and not held by another client. */
  private available(mac: string, ip: number, now: number): boolean {
    if (!this.inPool(ip)) return false;
    for (const [other, lease] of this.leases) {
      if (other !== mac && lease.ip === ip && lease.expires > now) return false;
    }
    return true;
  }

  private allocate(mac: string, requested: number, now: number): number | null {
    const current = this.leases.get(mac);
    if (current && this.available(mac, current.ip, now)) return current.ip;
    if (requested !== 0 && this.available(mac, requested, now)) return requested;
    for (let ip = FIRST_GUEST_IP; ip < FIRST_GUEST_IP + POOL_SIZE; ip++) {
      if (this.available(mac, ip, now)) return ip;
    }
    return null;
  }

  private reply(request: Request, type: number, yiaddr: number): DhcpReply {
    const message = new Uint8Array(MIN_MESSAGE);
    message[0] = 2; // BOOTREPLY
    message[1] = 1;
    message[2] = 6;
    message.set(request.xid, 4);
    message[10] = request.flags >>> 8;
    message[11] = request.flags & 0xff;
    if (type !== DHCPNAK) writeIpv4(message, 12, request.ciaddr);
    writeIpv4(message, 16, yiaddr);
    writeIpv4(message, 24, request.giaddr);
    message.set(request.chaddr, 28);
    writeIpv4(message, 236, MAGIC_COOKIE);
    let at = OPTIONS_AT;
    const option = (code: number, bytes: number[]): void => {
      message[at++] = code;
      message[at++] = bytes.length;
      for (const b of bytes) message[at++] = b;
    };
    const ipBytes = (ip: number): number[] => [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff];
    option(OPT_MESSAGE_TYPE, [type]);
    option(OPT_SERVER_ID, ipBytes(GATEWAY_IP));
    if (type !== DHCPNAK) {
      if (type !== DHCPACK || yiaddr !== 0) {
        option(OPT_LEASE_TIME, ipBytes(LEASE_SECONDS));
        option(OPT_RENEWAL_TIME, ipBytes(LEASE_SECONDS / 2));
        option(OPT_REBINDING_TIME, ipBytes((LEASE_SECONDS * 7) / 8));
      }
      option(OPT_SUBNET_MASK, ipBytes(NAT_NETMASK));
      option(OPT_ROUTER, ipBytes(GATEWAY_IP));
      option(OPT_DNS, ipBytes(DNS_IP));
      option(OPT_BROADCAST, ipBytes(NAT_BROADCAST));
    }
    message[at] = 255;
    // A client that already has an address (renewing, INFORM) hears back on it; others by broadcast.
    const unicast = type !== DHCPNAK && request.ciaddr !== 0 && request.giaddr === 0;
    return {
      message,
      dstIp: unicast ? request.ciaddr : LIMITED_BROADCAST,
      dstMac: unicast ? request.chaddr.subarray(0, 6) : BROADCAST_MAC,
    };
  }
}

function parseRequest(data: Uint8Array): Request | null {
  if (data.length < OPTIONS_AT + 4 || data[0] !== 1 || data[1] !== 1 || data[2] !== 6) return null;
  if (readIpv4(data, 236) !== MAGIC_COOKIE) return null;
  const request: Request = {
    type: 0,
    xid: copyBytes(data, 4, 8),
    flags: (data[10] << 8) | data[11],
    ciaddr: readIpv4(data, 12),
    giaddr: readIpv4(data, 24),
    chaddr: copyBytes(data, 28, 44),
    requestedIp: 0,
    serverId: 0,
  };
  let at = OPTIONS_AT;
  while (at < data.length) {
    const code = data[at++];
    if (code === 0) continue;
    if (code === 255) break;
    if (at >= data.length) return null;
    const len = data[at++];
    if (at + len > data.length) return null;
    if (code === OPT_MESSAGE_TYPE && len === 1) request.type = data[at];
    else if (code === OPT_REQUESTED_IP && len === 4) request.requestedIp = readIpv4(data, at);
    else if (code === OPT_SERVER_ID && len === 4) request.serverId = readIpv4(data, at);
    at += len;
  }
  return request.type === 0 ? null : request;
}
