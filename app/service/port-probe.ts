/**
 * Can this host listen where a new port forward asks? A quick bind and close, so the
 * Settings dialog can say "in use" before the user saves. Only a hint: the machine binds
 * for real when it starts or applies the forwards, and reports its own error then.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortForwardSetting } from '../library/config-schema.js';

/** Why the host cannot listen for this rule, or null when it can (now). */
export async function listenProblem(rule: PortForwardSetting): Promise<string | null> {
  const error = await (rule.protocol === 'tcp' ? tryTcp(rule.hostAddress, rule.hostPort) : tryUdp(rule.hostAddress, rule.hostPort));
  if (error === null) return null;
  const where = `${rule.protocol.toUpperCase()} port ${rule.hostPort} on ${rule.hostAddress}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `${where} is in use by another program (or another VM's forward).`;
    case 'EADDRNOTAVAIL':
      return `${rule.hostAddress} is not an address of this computer.`;
    case 'EACCES':
      return `This host does not let Terrarium listen on ${where}.`;
    default:
      return `Cannot listen on ${where}: ${error.message}`;
  }
}

function tryTcp(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

function tryUdp(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      resolve(error);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(null)));
  });
}
