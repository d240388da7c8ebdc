import { describe, expect, it } from 'vitest';
import { parseDnsServer, parseDnsServers, servfailFor } from './dns-message.js';
import { BadInputError } from '../errors.js';

describe('DNS messages', () => {
  it('reads resolvers as node prints them', () => {
    expect(parseDnsServer('192.168.1.1')).toEqual({ address: '192.168.1.1', port: 53, family: 4 });
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ address: '127.0.0.1', port: 5353, family: 4 });
    expect(parseDnsServer('2001:db8::1')).toEqual({ address: '2001:db8::1', port: 53, family: 6 });
    expect(parseDnsServer('[::1]:5353')).toEqual({ address: '::1', port: 5353, family: 6 });
    for (const bad of ['dns.example', '1.2.3.4:0', '1.2.3.4:99999', '[1.2.3.4]:53', '1.2.3']) expect(parseDnsServer(bad)).toBeNull();
    expect(() => parseDnsServers(['8.8.8.8', 'nope'])).toThrow(BadInputError);
  });

  it('builds SERVFAIL with the query\'s id, opcode, RD bit and question', () => {
    const query = new Uint8Array([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0x61, 0, 0, 1, 0, 1, 0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]);
    const answer = servfailFor(query)!;
    expect([...answer.subarray(0, 12)]).toEqual([0x12, 0x34, 0x81, 0x82, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(answer.subarray(12)).toEqual(query.subarray(12, 19)); // the question, not the OPT record
    expect(servfailFor(answer)).toBeNull(); // never answer an answer
  });
});
