/** ARP for the NAT's own addresses: who-has 10.0.2.2 or 10.0.2.3 gets a reply with its MAC. */
import { BROADCAST_MAC, DNS_IP, GATEWAY_IP, isGuestSideAddress, natMacFor, readIpv4 } from './addresses.js';
import { ETH_HEADER_LENGTH, ETHERTYPE_ARP, ETHERTYPE_IPV4, writeEthernetHeader } from './ethernet.js';

const ARP_LENGTH = 28;
const OP_REQUEST = 1;
const OP_REPLY = 2;
/** Ethernet's minimum frame without the FCS. */
const MIN_FRAME = 60;

export interface ArpResult {
  /** The guest's address and the offset of its MAC in the frame, when the sender is a guest address. */
  learnedIp: number;
  learnedMacOffset: number;
  /** The reply to send back, or null. */
  reply: Uint8Array | null;
}

/** Whether the NAT answers ARP for this address. */
export function isNatAddress(ip: number): boolean {
  return ip === GATEWAY_IP || ip === DNS_IP;
}

/** Handle one ARP frame of `length` bytes. null when it is malformed or not Ethernet/IPv4 ARP. */
export function handleArp(frame: Uint8Array, length: number): ArpResult | null {
  const a = ETH_HEADER_LENGTH;
  if (length < a + ARP_LENGTH) return null;
  const htype = (frame[a] << 8) | frame[a + 1];
  const ptype = (frame[a + 2] << 8) | frame[a + 3];
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || frame[a + 4] !== 6 || frame[a + 5] !== 4) return null;
  const op = (frame[a + 6] << 8) | frame[a + 7];
  const senderIp = readIpv4(frame, a + 14);
  const targetIp = readIpv4(frame, a + 24);
  const result: ArpResult = {
    learnedIp: isGuestSideAddress(senderIp) ? senderIp : 0,
    learnedMacOffset: a + 8,
    reply: null,
  };
  if (op !== OP_REQUEST || !isNatAddress(targetIp)) return result;
  const mac = natMacFor(targetIp);
  const reply = new Uint8Array(MIN_FRAME);
  const senderMac = frame.subarray(a + 8, a + 14);
  writeEthernetHeader(reply, senderIp === 0 ? BROADCAST_MAC : senderMac, mac, ETHERTYPE_ARP);
  reply.set(frame.subarray(a, a + 6), a); // htype, ptype, hlen, plen
  reply[a + 7] = OP_REPLY;
  reply.set(mac, a + 8);
  reply.set(frame.subarray(a + 24, a + 28), a + 14);
  reply.set(senderMac, a + 18);
  reply.set(frame.subarray(a + 14, a + 18), a + 24);
  result.reply = reply;
  return result;
}
