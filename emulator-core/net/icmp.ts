/** ICMP messages the NAT itself answers: echo replies and errors about the guest's packets. */
import { internetChecksum } from './checksum.js';
import { copyBytes } from './bytes.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const UNREACH_PORT = 3;
export const UNREACH_ADMIN_PROHIBITED = 13;

/** The reply to an echo request (a copy with type 0 and a new checksum), or null for anything else or a bad checksum. */
export function echoReply(message: Uint8Array): Uint8Array | null {
  if (message.length < 8 || message[0] !== ICMP_ECHO_REQUEST || message[1] !== 0) return null;
  if (internetChecksum(message) !== 0) return null;
  const reply = copyBytes(message);
  reply[0] = ICMP_ECHO_REPLY;
  reply[2] = 0;
  reply[3] = 0;
  const sum = internetChecksum(reply);
  reply[2] = sum >>> 8;
  reply[3] = sum & 0xff;
  return reply;
}

/**
 * An ICMP error about `packet` (the offending IPv4 packet from its header on): the header
 * and the first 8 bytes of its payload, as RFC 792 asks.
 */
export function icmpError(type: number, code: number, packet: Uint8Array, headerLength: number): Uint8Array {
  const quoted = Math.min(packet.length, headerLength + 8);
  const message = new Uint8Array(8 + quoted);
  message[0] = type;
  message[1] = code;
  message.set(packet.subarray(0, quoted), 8);
  const sum = internetChecksum(message);
  message[2] = sum >>> 8;
  message[3] = sum & 0xff;
  return message;
}
