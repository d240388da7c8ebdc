/**
 * TEST DOUBLE — not an emulator. Stands in for emulator-core's Machine so the session
 * relay, the contract and the console UI can be exercised before real guests boot. It
 * paints a moving pattern and answers serial input with "double: <line>". With NAT it
 * "leases" 10.0.2.15 shortly after it starts and really listens on each forward's host
 * port (a TCP client gets "double: guest port N" and the connection closes), so a port in
 * use fails as it would on the real machine. Never used by shipped code: only tests point a
 * SessionManager at its worker.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { BadInputError } from '../../../emulator-core/errors.js';
import type { MachineConfig, MachineExit, MachineListener, NetStatus, PortForward, ScreenUpdate } from '../../../emulator-core/machine/types.js';
import { DEFAULT_FORWARD_HOST, DEFAULT_MAC, describeForward } from '../../../emulator-core/net/forward-rules.js';
import type { MachineLike } from '../../../app/session/messages.js';

export const DOUBLE_GUEST_ADDRESS = '10.0.2.15';

export const DOUBLE_BANNER = 'Terrarium test double (not a real guest)\r\ndouble login: ';

export class TestDoubleMachine implements MachineLike {
  static readonly WIDTH = 320;
  static readonly HEIGHT = 200;
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;
  private line = '';
  private finish: ((exit: MachineExit) => void) | null = null;
  readonly keys: string[] = [];
  /** Open host sockets by rule (describeForward). */
  private sockets = new Map<string, Server | Socket>();
  private forwards: PortForward[] = [];
  private guestAddress: string | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly config: MachineConfig,
    private readonly listener: MachineListener,
  ) {}

  static async create(config: MachineConfig, listener: MachineListener = {}): Promise<TestDoubleMachine> {
    if (config.memoryMiB === 13) throw new Error('test double: refusing 13 MiB on purpose');
    const machine = new TestDoubleMachine(config, listener);
    // As the real machine opens its NAT: the forwards listen from creation, and one that cannot fails the start.
    if (config.net?.mode === 'nat') await machine.setForwards(config.net.forwards ?? []);
    return machine;
  }

  run(): Promise<MachineExit> {
    this.paintAll();
    this.listener.serialOutput?.(new TextEncoder().encode(DOUBLE_BANNER));
    this.listener.accelChosen?.('interpreter', 'test double');
    this.resume();
    if (this.config.net?.mode === 'nat') {
      this.leaseTimer = setTimeout(() => {
        this.guestAddress = DOUBLE_GUEST_ADDRESS;
        this.reportNet();
      }, 300);
    }
    return new Promise((resolve) => (this.finish = resolve));
  }

  /** All or nothing, like the real machine: new sockets first; on a failure the old rules stay. */
  async setForwards(rules: PortForward[]): Promise<void> {
    const next = new Map<string, Server | Socket>();
    for (const rule of rules) {
      const key = describeForward(rule);
      const open = this.sockets.get(key) ?? (await listen(rule).catch(() => null));
      if (open === null) {
        for (const [k, socket] of next) if (!this.sockets.has(k)) socket.close();
        // Worded as the NAT words it (emulator-core/net/port-forwards.ts): the message names the rule.
        throw new BadInputError(`port forward ${key}: host port ${rule.hostPort} is in use`, { field: 'forward' });
      }
      next.set(key, open);
    }
    for (const [k, socket] of this.sockets) if (!next.has(k)) socket.close();
    this.sockets = next;
    this.forwards = rules;
    this.reportNet();
  }

  netStatus(): NetStatus | null {
    return this.config.net?.mode === 'nat' ? { mode: 'nat', mac: this.config.net.mac ?? DEFAULT_MAC, guestAddress: this.guestAddress, forwards: this.forwards } : null;
  }

  private reportNet(): void {
    const status = this.netStatus();
    if (status !== null) this.listener.networkChanged?.(status);
  }

  pause(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  resume(): void {
    this.timer ??= setInterval(() => this.tick(), 50);
  }

  reset(): void {
    this.frame = 0;
    this.paintAll();
  }

  powerOff(): void {
    this.stop({ kind: 'stopped', reason: 'powered off' });
  }

  acpiShutdown(): void {
    setTimeout(() => this.stop({ kind: 'poweroff', reason: 'guest shut down (ACPI)' }), 100);
  }

  sendSerial(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (byte === 13) {
        const reply = `\r\ndouble: ${this.line}\r\ndouble login: `;
        this.line = '';
        this.listener.serialOutput?.(new TextEncoder().encode(reply));
      } else {
        this.line += String.fromCharCode(byte);
        this.listener.serialOutput?.(Uint8Array.of(byte));
      }
    }
  }

  sendKey(code: string, down: boolean): void {
    if (down) this.keys.push(code);
  }

  sendPointer(): void {}

  changeCdrom(): void {}

  screenshot(): ScreenUpdate | null {
    return this.region(0, 0, TestDoubleMachine.WIDTH, TestDoubleMachine.HEIGHT);
  }

  private stop(exit: MachineExit): void {
    this.pause();
    if (this.leaseTimer !== null) clearTimeout(this.leaseTimer);
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    this.finish?.(exit);
    this.finish = null;
  }

  private tick(): void {
    this.frame++;
    // A band that moves down the screen: only it is dirty.
    const y = (this.frame * 8) % TestDoubleMachine.HEIGHT;
    this.listener.screenUpdate?.(this.region(0, y, TestDoubleMachine.WIDTH, 8));
  }

  private paintAll(): void {
    this.listener.screenUpdate?.(this.region(0, 0, TestDoubleMachine.WIDTH, TestDoubleMachine.HEIGHT));
  }

  private region(x: number, y: number, w: number, h: number): ScreenUpdate {
    const rgba = new Uint8Array(w * h * 4);
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const i = (row * w + col) * 4;
        rgba[i] = (x + col + this.frame * 3) & 255;
        rgba[i + 1] = (y + row) & 255;
        rgba[i + 2] = (this.frame * 5) & 255;
        rgba[i + 3] = 255;
      }
    }
    return { width: TestDoubleMachine.WIDTH, height: TestDoubleMachine.HEIGHT, x, y, w, h, rgba };
  }
}

function listen(rule: PortForward): Promise<Server | Socket> {
  const host = rule.hostAddress ?? DEFAULT_FORWARD_HOST;
  return new Promise((resolve, reject) => {
    if (rule.protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', (error) => {
        socket.close();
        reject(error);
      });
      socket.bind({ address: host, port: rule.hostPort, exclusive: true }, () => resolve(socket));
      return;
    }
    const server = createServer((client) => client.end(`double: guest port ${rule.guestPort}\n`));
    server.once('error', reject);
    server.listen({ host, port: rule.hostPort, exclusive: true }, () => resolve(server));
  });
}
