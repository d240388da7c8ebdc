/**
 * TEST DOUBLE — not an emulator. Stands in for emulator-core's Machine so the session
 * relay, the contract and the console UI can be exercised before real guests boot. It
 * paints a moving pattern and answers serial input with "double: <line>". Never used by
 * shipped code: only tests point a SessionManager at its worker.
 */
import type { MachineConfig, MachineExit, MachineListener, ScreenUpdate } from '../../../emulator-core/machine/types.js';
import type { MachineLike } from '../../../app/session/messages.js';

export const DOUBLE_BANNER = 'Terrarium test double (not a real guest)\r\ndouble login: ';

export class TestDoubleMachine implements MachineLike {
  static readonly WIDTH = 320;
  static readonly HEIGHT = 200;
  private frame = 0;
  private timer: NodeJS.Timeout | null = null;
  private line = '';
  private finish: ((exit: MachineExit) => void) | null = null;
  readonly keys: string[] = [];

  private constructor(
    readonly config: MachineConfig,
    private readonly listener: MachineListener,
  ) {}

  static async create(config: MachineConfig, listener: MachineListener = {}): Promise<TestDoubleMachine> {
    if (config.memoryMiB === 13) throw new Error('test double: refusing 13 MiB on purpose');
    return new TestDoubleMachine(config, listener);
  }

  run(): Promise<MachineExit> {
    this.paintAll();
    this.listener.serialOutput?.(new TextEncoder().encode(DOUBLE_BANNER));
    this.listener.accelChosen?.('interpreter', 'test double');
    this.resume();
    return new Promise((resolve) => (this.finish = resolve));
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
