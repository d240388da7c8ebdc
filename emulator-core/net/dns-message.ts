/**
 * The little DNS the forwarder needs: upstream server addresses, and a SERVFAIL answer built
 * from a query. Answers themselves are relayed byte for byte, so no full DNS codec is needed.
 */
import { isIPv6 } from 'node:net';
import { BadInputError } from '../errors.js';
import { parseIpv4 } from './addresses.js';
import { copyBytes } from './bytes.js';

export const DNS_HEADER_LENGTH = 12;
const RCODE_SERVFAIL = 2;

export interface DnsServer {
  address: string;
  port: number;
  family: 4 | 6;
}

/**
 * Parse a resolver as node's dns.getServers() prints it: "1.2.3.4", "1.2.3.4:5353", "::1",
 * "[::1]:5353". null when it is none of those.
 */
export function parseDnsServer(text: string): DnsServer | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return isIPv6(bracketed[1]) ? withPort(bracketed[1], 6, bracketed[2]) : null;
  if (isIPv6(text)) return { address: text, port: 53, family: 6 };
  const [address, port, extra] = text.split(':');
  if (extra !== undefined || parseIpv4(address) === null) return null;
  return withPort(address, 4, port);
}

function withPort(address: string, family: 4 | 6, port: string | undefined): DnsServer | null {
  if (port === undefined) return { address, port: 53, family };
  const n = Number(port);
  return /^\d+$/.test(port) && n >= 1 && n <= 65535 ? { address, port: n, family } : null;
}

/** Parse every configured server, or throw BadInputError naming the bad one. */
export function parseDnsServers(texts: readonly string[]): DnsServer[] {
  return texts.map((text) => {
    const server = parseDnsServer(text);
    if (!server) throw new BadInputError(`DNS server "${text}" is not an IP address (with an optional :port)`, { dnsServer: text });
    return server;
  });
}

/** Offset just past the question section, or -1 when it is malformed. */
function questionEnd(message: Uint8Array, count: number): number {
  let at = DNS_HEADER_LENGTH;
  for (let q = 0; q < count; q++) {
    for (;;) {
      if (at >= message.length) return -1;
      const len = message[at];
      if (len === 0) {
        at += 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        at += 2; // a compression pointer ends the name
        break;
      }
      if (len & 0xc0) return -1;
      at += 1 + len;
    }
    at += 4; // type and class
    if (at > message.length) return -1;
  }
  return at;
}

/** SERVFAIL for `query`: its id, opcode, RD bit and question, no records. null when it is not a query. */
export function servfailFor(query: Uint8Array): Uint8Array | null {
  if (query.length < DNS_HEADER_LENGTH || query[2] & 0x80) return null;
  const qdcount = (query[4] << 8) | query[5];
  const end = questionEnd(query, qdcount);
  const answer = copyBytes(query, 0, end === -1 ? DNS_HEADER_LENGTH : end);
  answer[2] = 0x80 | (query[2] & 0x79); // QR, opcode, RD
  answer[3] = 0x80 | RCODE_SERVFAIL; // RA
  if (end === -1) {
    answer[4] = 0;
    answer[5] = 0;
  }
  answer.fill(0, 6, 12);
  return answer;
}
