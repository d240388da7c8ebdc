import type { AccessSize, PortIoHandler } from '../bus/io-bus.js';
import type { IrqLine } from '../bus/irq.js';
import type { MachineControl } from '../machine/control.js';
import type { Device, DeviceState } from './device.js';
import { StateReader } from './state.js';

// Status register (port 0x64 read).
const ST_OBF = 0x01;
const ST_SYS = 0x04;
const ST_A2 = 0x08;
const ST_UNLOCKED = 0x10;
const ST_AUX_OBF = 0x20;

// Controller command byte (controller RAM 0).
const CB_KBD_INT = 0x01;
const CB_AUX_INT = 0x02;
const CB_SYS = 0x04;
const CB_KBD_DISABLE = 0x10;
const CB_AUX_DISABLE = 0x20;
const CB_XLATE = 0x40;

const SRC_NONE = 0;
const SRC_KBD = 1;
const SRC_AUX = 2;

const ACK = 0xfa;
const RESEND = 0xfe;
const BAT_OK = 0xaa;

const QUEUE_SIZE = 256;
/**
 * Key data the keyboard buffers, as a real keyboard (16 bytes) does; later keys are lost
 * until the guest reads. A deeper buffer would break Linux's i8042_flush, which gives up
 * (and disables the controller) after 16 bytes.
 */
const KEY_DATA_LIMIT = 16;
/** Mouse motion beyond this much queued data is merged into later packets, never lost. */
const AUX_DATA_LIMIT = 12;
/** Motion counters saturate here while the guest is not taking reports. */
const AUX_COUNTER_LIMIT = 4096;

/**
 * KeyboardEvent.code → [scan code set 2, scan code set 1]; 0x100 marks an E0-prefixed key.
 * The pairs also define the 8042's set 2 → set 1 translation.
 */
export const KEY_SCANCODES: readonly (readonly [string, number, number])[] = [
  ['Escape', 0x76, 0x01],
  ['F1', 0x05, 0x3b],
  ['F2', 0x06, 0x3c],
  ['F3', 0x04, 0x3d],
  ['F4', 0x0c, 0x3e],
  ['F5', 0x03, 0x3f],
  ['F6', 0x0b, 0x40],
  ['F7', 0x83, 0x41],
  ['F8', 0x0a, 0x42],
  ['F9', 0x01, 0x43],
  ['F10', 0x09, 0x44],
  ['F11', 0x78, 0x57],
  ['F12', 0x07, 0x58],
  ['Backquote', 0x0e, 0x29],
  ['Digit1', 0x16, 0x02],
  ['Digit2', 0x1e, 0x03],
  ['Digit3', 0x26, 0x04],
  ['Digit4', 0x25, 0x05],
  ['Digit5', 0x2e, 0x06],
  ['Digit6', 0x36, 0x07],
  ['Digit7', 0x3d, 0x08],
  ['Digit8', 0x3e, 0x09],
  ['Digit9', 0x46, 0x0a],
  ['Digit0', 0x45, 0x0b],
  ['Minus', 0x4e, 0x0c],
  ['Equal', 0x55, 0x0d],
  ['Backspace', 0x66, 0x0e],
  ['Tab', 0x0d, 0x0f],
  ['KeyQ', 0x15, 0x10],
  ['KeyW', 0x1d, 0x11],
  ['KeyE', 0x24, 0x12],
  ['KeyR', 0x2d, 0x13],
  ['KeyT', 0x2c, 0x14],
  ['KeyY', 0x35, 0x15],
  ['KeyU', 0x3c, 0x16],
  ['KeyI', 0x43, 0x17],
  ['KeyO', 0x44, 0x18],
  ['KeyP', 0x4d, 0x19],
  ['BracketLeft', 0x54, 0x1a],
  ['BracketRight', 0x5b, 0x1b],
  ['Enter', 0x5a, 0x1c],
  ['ControlLeft', 0x14, 0x1d],
  ['KeyA', 0x1c, 0x1e],
  ['KeyS', 0x1b, 0x1f],
  ['KeyD', 0x23, 0x20],
  ['KeyF', 0x2b, 0x21],
  ['KeyG', 0x34, 0x22],
  ['KeyH', 0x33, 0x23],
  ['KeyJ', 0x3b, 0x24],
  ['KeyK', 0x42, 0x25],
  ['KeyL', 0x4b, 0x26],
  ['Semicolon', 0x4c, 0x27],
  ['Quote', 0x52, 0x28],
  ['ShiftLeft', 0x12, 0x2a],
  ['Backslash', 0x5d, 0x2b],
  ['KeyZ', 0x1a, 0x2c],
  ['KeyX', 0x22, 0x2d],
  ['KeyC', 0x21, 0x2e],
  ['KeyV', 0x2a, 0x2f],
  ['KeyB', 0x32, 0x30],
  ['KeyN', 0x31, 0x31],
  ['KeyM', 0x3a, 0x32],
  ['Comma', 0x41, 0x33],
  ['Period', 0x49, 0x34],
  ['Slash', 0x4a, 0x35],
  ['ShiftRight', 0x59, 0x36],
  ['NumpadMultiply', 0x7c, 0x37],
  ['AltLeft', 0x11, 0x38],
  ['Space', 0x29, 0x39],
  ['CapsLock', 0x58, 0x3a],
  ['NumLock', 0x77, 0x45],
  ['ScrollLock', 0x7e, 0x46],
  ['Numpad7', 0x6c, 0x47],
  ['Numpad8', 0x75, 0x48],
  ['Numpad9', 0x7d, 0x49],
  ['NumpadSubtract', 0x7b, 0x4a],
  ['Numpad4', 0x6b, 0x4b],
  ['Numpad5', 0x73, 0x4c],
  ['Numpad6', 0x74, 0x4d],
  ['NumpadAdd', 0x79, 0x4e],
  ['Numpad1', 0x69, 0x4f],
  ['Numpad2', 0x72, 0x50],
  ['Numpad3', 0x7a, 0x51],
  ['Numpad0', 0x70, 0x52],
  ['NumpadDecimal', 0x71, 0x53],
  ['IntlBackslash', 0x61, 0x56],
  ['NumpadEqual', 0x0f, 0x59],
  ['KanaMode', 0x13, 0x70],
  ['IntlRo', 0x51, 0x73],
  ['Convert', 0x64, 0x79],
  ['NonConvert', 0x67, 0x7b],
  ['IntlYen', 0x6a, 0x7d],
  ['NumpadComma', 0x6d, 0x7e],
  ['NumpadEnter', 0x15a, 0x1c],
  ['ControlRight', 0x114, 0x1d],
  ['NumpadDivide', 0x14a, 0x35],
  ['AltRight', 0x111, 0x38],
  ['Home', 0x16c, 0x47],
  ['ArrowUp', 0x175, 0x48],
  ['PageUp', 0x17d, 0x49],
  ['ArrowLeft', 0x16b, 0x4b],
  ['ArrowRight', 0x174, 0x4d],
  ['End', 0x169, 0x4f],
  ['ArrowDown', 0x172, 0x50],
  ['PageDown', 0x17a, 0x51],
  ['Insert', 0x170, 0x52],
  ['Delete', 0x171, 0x53],
  ['MetaLeft', 0x11f, 0x5b],
  ['MetaRight', 0x127, 0x5c],
  ['ContextMenu', 0x12f, 0x5d],
  ['Power', 0x137, 0x5e],
  ['Sleep', 0x13f, 0x5f],
  ['WakeUp', 0x15e, 0x63],
  ['AudioVolumeMute', 0x123, 0x20],
  ['AudioVolumeDown', 0x121, 0x2e],
  ['AudioVolumeUp', 0x132, 0x30],
  ['MediaPlayPause', 0x134, 0x22],
  ['MediaStop', 0x13b, 0x24],
  ['MediaTrackPrevious', 0x115, 0x10],
  ['MediaTrackNext', 0x14d, 0x19],
  ['BrowserHome', 0x13a, 0x32],
  ['BrowserSearch', 0x110, 0x65],
  ['BrowserFavorites', 0x118, 0x66],
  ['BrowserRefresh', 0x120, 0x67],
  ['BrowserStop', 0x128, 0x68],
  ['BrowserForward', 0x130, 0x69],
  ['BrowserBack', 0x138, 0x6a],
  ['LaunchApp1', 0x140, 0x6b],
  ['LaunchMail', 0x148, 0x6c],
  ['MediaSelect', 0x150, 0x6d],
];

const KEY_PRINT_SCREEN = -1;
const KEY_PAUSE = -2;

const KEYS: ReadonlyMap<string, number> = new Map<string, number>([
  ...KEY_SCANCODES.map(([code, set2]) => [code, set2] as [string, number]),
  ['PrintScreen', KEY_PRINT_SCREEN],
  ['Pause', KEY_PAUSE],
]);

/** The 8042's set 2 → set 1 translation for every byte a keyboard here can send. */
export const XLATE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = i;
  for (const [, set2, set1] of KEY_SCANCODES) t[set2 & 0xff] = set1;
  t[0x00] = 0xff; // overrun
  t[0x02] = 0x41; // "scan code set 2" reply to F0 00
  t[0x84] = 0x54; // Alt+SysRq
  return t;
})();

/** A small byte FIFO; entries can carry a tag (used for the controller's reply source). */
class ByteQueue {
  private readonly data: Uint16Array;
  private head = 0;
  count = 0;
  constructor(readonly capacity: number) {
    this.data = new Uint16Array(capacity);
  }
  push(v: number): boolean {
    if (this.count === this.capacity) return false;
    this.data[(this.head + this.count) % this.capacity] = v;
    this.count++;
    return true;
  }
  pop(): number {
    const v = this.data[this.head]!;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return v;
  }
  clear(): void {
    this.head = 0;
    this.count = 0;
  }
  toArray(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.data[(this.head + i) % this.capacity]!);
    return out;
  }
  load(values: readonly number[]): void {
    this.clear();
    for (const v of values) this.push(v);
  }
}

export interface I8042Options {
  control: MachineControl;
  /** IRQ1: keyboard data in the output buffer. */
  kbdIrq: IrqLine;
  /** IRQ12: mouse data in the output buffer. */
  auxIrq: IrqLine;
}

/**
 * Intel 8042 keyboard controller (0x60 data, 0x64 status/command) with a PS/2 keyboard
 * and a PS/2 mouse behind it. The controller answers at once (IBF never shows); bytes
 * from the devices wait in their queues until the single output buffer is free.
 */
export class I8042 implements Device, PortIoHandler {
  readonly name = 'i8042';
  private readonly control: MachineControl;
  private readonly kbdIrq: IrqLine;
  private readonly auxIrq: IrqLine;

  // Controller
  private readonly ram = new Uint8Array(32);
  private outByte = 0;
  private outSrc = SRC_NONE;
  private a2 = false;
  private pendingCmd = 0;
  private outPortBits = 0xc0;
  /** Controller replies: byte | source << 8. */
  private readonly ctrlQueue = new ByteQueue(16);
  private readonly kbdQueue = new ByteQueue(QUEUE_SIZE);
  private readonly auxQueue = new ByteQueue(QUEUE_SIZE);
  /** Translation saw F0: the next byte is a break code. */
  private xlatBreak = false;

  // Keyboard
  private kbdScanning = true;
  private kbdSet = 2;
  private kbdPending = 0;
  private kbdLast = 0;
  private kbdLeds = 0;
  private kbdTypematic = 0x2b;
  private readonly keyScratch = new Uint8Array(8);

  // Mouse
  private auxReporting = false;
  private auxRemote = false;
  private auxWrap = false;
  private auxScaling2 = false;
  private auxRate = 100;
  private auxResolution = 2;
  private auxPending = 0;
  private auxLast = 0;
  private auxId = 0;
  /** Last three sample rates set: 200, 100, 80 switches to the IntelliMouse (wheel) id. */
  private rateHistory = 0;
  private auxButtons = 0;
  private auxSentButtons = 0;
  private auxDx = 0;
  private auxDy = 0;
  private auxDz = 0;

  constructor(options: I8042Options) {
    this.control = options.control;
    this.kbdIrq = options.kbdIrq;
    this.auxIrq = options.auxIrq;
    this.reset();
  }

  // --- host input ----------------------------------------------------------------------

  /** A key by KeyboardEvent.code. Unknown codes are ignored. */
  keyEvent(code: string, down: boolean): void {
    if (!this.kbdScanning) return;
    const key = KEYS.get(code);
    if (key === undefined) return;
    const s = this.keyScratch;
    let n = 0;
    if (key === KEY_PAUSE) {
      if (!down) return; // Pause has no break code
      s[n++] = 0xe1;
      s[n++] = 0x14;
      s[n++] = 0x77;
      s[n++] = 0xe1;
      s[n++] = 0xf0;
      s[n++] = 0x14;
      s[n++] = 0xf0;
      s[n++] = 0x77;
    } else if (key === KEY_PRINT_SCREEN) {
      if (down) {
        s[n++] = 0xe0;
        s[n++] = 0x12;
        s[n++] = 0xe0;
        s[n++] = 0x7c;
      } else {
        s[n++] = 0xe0;
        s[n++] = 0xf0;
        s[n++] = 0x7c;
        s[n++] = 0xe0;
        s[n++] = 0xf0;
        s[n++] = 0x12;
      }
    } else {
      if (key & 0x100) s[n++] = 0xe0;
      if (!down) s[n++] = 0xf0;
      s[n++] = key & 0xff;
    }
    if (this.kbdSet === 1) n = this.toSet1(s, n);
    if (this.kbdQueue.count + n > KEY_DATA_LIMIT) return; // the keyboard's buffer overflowed
    for (let i = 0; i < n; i++) this.kbdQueue.push(s[i]!);
    this.service();
  }

  /** Rewrite a set 2 sequence in place as set 1 (the keyboard itself was put in set 1). */
  private toSet1(s: Uint8Array, n: number): number {
    let out = 0;
    let brk = 0;
    for (let i = 0; i < n; i++) {
      const b = s[i]!;
      if (b === 0xf0) {
        brk = 0x80;
        continue;
      }
      s[out++] = b === 0xe0 || b === 0xe1 ? b : XLATE[b]! | brk;
      if (b !== 0xe0 && b !== 0xe1) brk = 0;
    }
    return out;
  }

  /**
   * Relative pointer motion (dy grows downwards, as on screen) and buttons (bit 0 left,
   * 1 right, 2 middle); dz is wheel clicks, reported once the guest enables the wheel.
   */
  pointerEvent(dx: number, dy: number, buttons: number, dz = 0): void {
    const lim = AUX_COUNTER_LIMIT;
    this.auxDx = Math.max(-lim, Math.min(lim, this.auxDx + Math.trunc(dx)));
    this.auxDy = Math.max(-lim, Math.min(lim, this.auxDy - Math.trunc(dy)));
    this.auxDz = Math.max(-lim, Math.min(lim, this.auxDz + Math.trunc(dz)));
    this.auxButtons = buttons & 7;
    this.emitMouse();
  }

  private scale(v: number): number {
    if (!this.auxScaling2) return v;
    const a = Math.abs(v);
    const s = a === 0 ? 0 : a <= 2 ? 1 : a === 3 ? 3 : a === 4 ? 6 : a === 5 ? 9 : 2 * a;
    return v < 0 ? -s : s;
  }

  private packetLength(): number {
    return this.auxId === 3 ? 4 : 3;
  }

  private pushPacket(): void {
    const dx = Math.max(-255, Math.min(255, this.auxDx));
    const dy = Math.max(-255, Math.min(255, this.auxDy));
    const dz = Math.max(-8, Math.min(7, this.auxDz));
    this.auxDx -= dx;
    this.auxDy -= dy;
    this.auxDz -= dz;
    const sx = Math.max(-256, Math.min(255, this.scale(dx)));
    const sy = Math.max(-256, Math.min(255, this.scale(dy)));
    this.auxQueue.push(0x08 | this.auxButtons | (sx < 0 ? 0x10 : 0) | (sy < 0 ? 0x20 : 0));
    this.auxQueue.push(sx & 0xff);
    this.auxQueue.push(sy & 0xff);
    if (this.auxId === 3) this.auxQueue.push(dz & 0xff);
    this.auxSentButtons = this.auxButtons;
  }

  /** Turn accumulated motion into stream-mode packets while the queue has room. */
  private emitMouse(): void {
    if (!this.auxReporting || this.auxRemote || this.auxWrap) return;
    const len = this.packetLength();
    while (
      (this.auxDx !== 0 || this.auxDy !== 0 || (this.auxDz !== 0 && this.auxId === 3) || this.auxButtons !== this.auxSentButtons) &&
      this.auxQueue.count + len <= AUX_DATA_LIMIT
    ) {
      if (this.auxId !== 3) this.auxDz = 0;
      this.pushPacket();
    }
    this.service();
  }

  // --- controller ----------------------------------------------------------------------

  private get commandByte(): number {
    return this.ram[0]!;
  }

  /** Move the next byte into the output buffer if it is free. */
  private service(): void {
    if (this.outSrc === SRC_NONE) {
      const cb = this.ram[0]!;
      if (this.ctrlQueue.count > 0) {
        const v = this.ctrlQueue.pop();
        this.outByte = v & 0xff;
        this.outSrc = v >> 8;
      } else if ((cb & CB_KBD_DISABLE) === 0 && this.kbdQueue.count > 0) {
        let b = this.kbdQueue.pop();
        if (cb & CB_XLATE) {
          while (b === 0xf0 && this.kbdQueue.count > 0) {
            this.xlatBreak = true;
            b = this.kbdQueue.pop();
          }
          if (b === 0xf0) {
            this.xlatBreak = true;
            this.updateIrq();
            return;
          }
          b = XLATE[b]! | (this.xlatBreak ? 0x80 : 0);
          this.xlatBreak = false;
        }
        this.outByte = b;
        this.outSrc = SRC_KBD;
      } else if ((cb & CB_AUX_DISABLE) === 0 && this.auxQueue.count > 0) {
        this.outByte = this.auxQueue.pop();
        this.outSrc = SRC_AUX;
      }
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    const cb = this.ram[0]!;
    this.kbdIrq.set(this.outSrc === SRC_KBD && (cb & CB_KBD_INT) !== 0);
    this.auxIrq.set(this.outSrc === SRC_AUX && (cb & CB_AUX_INT) !== 0);
  }

  private reply(v: number, src = SRC_KBD): void {
    this.ctrlQueue.push(v | (src << 8));
  }

  private outputPort(): number {
    return (
      (this.outPortBits & 0xcc) |
      0x01 |
      (this.control.a20 ? 0x02 : 0) |
      (this.outSrc === SRC_KBD ? 0x10 : 0) |
      (this.outSrc === SRC_AUX ? 0x20 : 0)
    );
  }

  private writeOutputPort(v: number): void {
    this.outPortBits = v;
    this.control.setA20((v & 0x02) !== 0);
    if ((v & 0x01) === 0) this.control.requestReset('i8042 output port reset line');
  }

  private command(cmd: number): void {
    if (cmd >= 0x20 && cmd <= 0x3f) {
      this.reply(this.ram[cmd & 0x1f]!);
    } else if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
      this.pendingCmd = cmd;
    } else if (cmd >= 0xf0) {
      // Pulse output port lines low for ~6 us; line 0 is the CPU reset.
      if ((cmd & 0x01) === 0) this.control.requestReset('i8042 pulse reset (0xFE)');
    } else {
      switch (cmd) {
        case 0xa4: // password installed?
          this.reply(0xf1);
          break;
        case 0xa7:
          this.ram[0]! |= CB_AUX_DISABLE;
          break;
        case 0xa8:
          this.ram[0]! &= ~CB_AUX_DISABLE;
          break;
        case 0xa9: // aux interface test
        case 0xab: // keyboard interface test
          this.reply(0x00);
          break;
        case 0xaa: // controller self-test
          this.ram[0]! |= CB_SYS;
          this.reply(0x55);
          break;
        case 0xad:
          this.ram[0]! |= CB_KBD_DISABLE;
          break;
        case 0xae:
          this.ram[0]! &= ~CB_KBD_DISABLE;
          break;
        case 0xc0: // input port: keyboard not inhibited
          this.reply(0x80);
          break;
        case 0xd0:
          this.reply(this.outputPort());
          break;
        case 0xdd:
          this.control.setA20(false);
          break;
        case 0xdf:
          this.control.setA20(true);
          break;
        case 0xe0: // test inputs
          this.reply(0x00);
          break;
        default:
          break; // unknown commands are ignored, as most 8042 firmware does
      }
    }
    this.service();
  }

  private commandData(cmd: number, v: number): void {
    switch (cmd) {
      case 0xd1:
        this.writeOutputPort(v);
        break;
      case 0xd2:
        this.reply(v, SRC_KBD);
        break;
      case 0xd3:
        this.reply(v, SRC_AUX);
        break;
      case 0xd4:
        this.auxWrite(v);
        break;
      default:
        this.ram[cmd & 0x1f] = v;
        if (cmd === 0x60 && (v & CB_XLATE) === 0) this.xlatBreak = false;
    }
    this.service();
  }

  // --- keyboard ------------------------------------------------------------------------

  private kbdSend(v: number): void {
    this.kbdQueue.push(v);
    this.kbdLast = v;
  }

  private kbdDefaults(): void {
    this.kbdLeds = 0;
    this.kbdTypematic = 0x2b;
    this.kbdSet = 2;
  }

  private kbdWrite(v: number): void {
    const pending = this.kbdPending;
    if (pending !== 0) {
      this.kbdPending = 0;
      // A command byte in place of an argument starts that command instead.
      if (v < 0xed) {
        this.kbdArgument(pending, v);
        this.service();
        return;
      }
    }
    switch (v) {
      case 0xed: // set LEDs
      case 0xf3: // typematic rate/delay
      case 0xf0: // scan code set
        this.kbdSend(ACK);
        this.kbdPending = v;
        break;
      case 0xee: // echo
        this.kbdSend(0xee);
        break;
      case 0xf2: // identify: MF2 keyboard
        this.kbdSend(ACK);
        this.kbdSend(0xab);
        this.kbdSend(0x83);
        break;
      case 0xf4: // enable scanning
        this.kbdQueue.clear();
        this.kbdScanning = true;
        this.kbdSend(ACK);
        break;
      case 0xf5: // disable scanning and restore defaults
        this.kbdQueue.clear();
        this.kbdScanning = false;
        this.kbdDefaults();
        this.kbdSend(ACK);
        break;
      case 0xf6: // restore defaults
        this.kbdQueue.clear();
        this.kbdDefaults();
        this.kbdSend(ACK);
        break;
      case 0xf7:
      case 0xf8:
      case 0xf9:
      case 0xfa: // set-3 key modes: accepted, no effect in set 2
        this.kbdSend(ACK);
        break;
      case 0xfe: // resend
        this.kbdSend(this.kbdLast);
        break;
      case 0xff: // reset and self-test
        this.kbdQueue.clear();
        this.kbdDefaults();
        this.kbdScanning = true;
        this.kbdSend(ACK);
        this.kbdSend(BAT_OK);
        break;
      default:
        this.kbdSend(RESEND);
    }
    this.service();
  }

  private kbdArgument(cmd: number, v: number): void {
    switch (cmd) {
      case 0xed:
        this.kbdLeds = v & 7;
        this.kbdSend(ACK);
        return;
      case 0xf3:
        this.kbdTypematic = v & 0x7f;
        this.kbdSend(ACK);
        return;
      default:
        // F0: 0 asks for the current set; 1 and 2 select it. Set 3 is not offered.
        if (v === 0) {
          this.kbdSend(ACK);
          this.kbdSend(this.kbdSet);
        } else if (v === 1 || v === 2) {
          this.kbdSet = v;
          this.kbdSend(ACK);
        } else {
          this.kbdSend(RESEND);
        }
    }
  }

  /** Keyboard LED state the guest set (bit 0 Scroll, 1 Num, 2 Caps Lock). */
  get keyboardLeds(): number {
    return this.kbdLeds;
  }

  // --- mouse ---------------------------------------------------------------------------

  private auxSend(v: number): void {
    this.auxQueue.push(v);
    this.auxLast = v;
  }

  private auxDefaults(): void {
    this.auxRate = 100;
    this.auxResolution = 2;
    this.auxScaling2 = false;
    this.auxReporting = false;
    this.auxRemote = false;
  }

  private auxWrite(v: number): void {
    if (this.auxWrap && v !== 0xec && v !== 0xff) {
      this.auxSend(v);
      return;
    }
    // Commands that change how motion is reported restart the movement counters.
    if (v !== 0xeb && v !== 0xe9 && v !== 0xf2 && v !== 0xfe) this.auxDx = this.auxDy = this.auxDz = 0;
    const pending = this.auxPending;
    if (pending !== 0) {
      this.auxPending = 0;
      if (pending === 0xf3) {
        this.auxRate = v;
        this.rateHistory = ((this.rateHistory << 8) | v) & 0xffffff;
        if (this.rateHistory === 0xc86450) this.auxId = 3; // 200, 100, 80
      } else {
        this.auxResolution = v & 3;
      }
      this.auxSend(ACK);
      return;
    }
    switch (v) {
      case 0xe6:
        this.auxScaling2 = false;
        this.auxSend(ACK);
        break;
      case 0xe7:
        this.auxScaling2 = true;
        this.auxSend(ACK);
        break;
      case 0xe8: // resolution
      case 0xf3: // sample rate
        this.auxPending = v;
        this.auxSend(ACK);
        break;
      case 0xe9: {
        // Status: mode, enable, scaling, then left/middle/right in bits 2/1/0.
        const b = this.auxButtons;
        this.auxSend(ACK);
        this.auxSend(
          (this.auxRemote ? 0x40 : 0) |
            (this.auxReporting ? 0x20 : 0) |
            (this.auxScaling2 ? 0x10 : 0) |
            (b & 1 ? 0x04 : 0) |
            (b & 4 ? 0x02 : 0) |
            (b & 2 ? 0x01 : 0),
        );
        this.auxSend(this.auxResolution);
        this.auxSend(this.auxRate);
        break;
      }
      case 0xea:
        this.auxRemote = false;
        this.auxSend(ACK);
        break;
      case 0xeb: // read data (remote mode)
        this.auxSend(ACK);
        this.pushPacket();
        break;
      case 0xec:
        this.auxWrap = false;
        this.auxSend(ACK);
        break;
      case 0xee:
        this.auxWrap = true;
        this.auxSend(ACK);
        break;
      case 0xf0:
        this.auxRemote = true;
        this.auxSend(ACK);
        break;
      case 0xf2:
        this.auxSend(ACK);
        this.auxSend(this.auxId);
        break;
      case 0xf4:
        this.auxReporting = true;
        this.auxSend(ACK);
        break;
      case 0xf5:
        this.auxReporting = false;
        this.auxSend(ACK);
        break;
      case 0xf6:
        this.auxDefaults();
        this.auxSend(ACK);
        break;
      case 0xfe:
        this.auxSend(this.auxLast);
        break;
      case 0xff:
        this.auxQueue.clear();
        this.auxDefaults();
        this.auxWrap = false;
        this.auxId = 0;
        this.rateHistory = 0;
        this.auxSend(ACK);
        this.auxSend(BAT_OK);
        this.auxSend(0x00);
        break;
      default:
        this.auxSend(RESEND);
    }
  }

  // --- ports ---------------------------------------------------------------------------

  ioRead(port: number, _size: AccessSize): number {
    if (port === 0x64) {
      return (
        (this.outSrc !== SRC_NONE ? ST_OBF : 0) |
        (this.outSrc === SRC_AUX ? ST_AUX_OBF : 0) |
        (this.ram[0]! & CB_SYS ? ST_SYS : 0) |
        (this.a2 ? ST_A2 : 0) |
        ST_UNLOCKED
      );
    }
    if (port !== 0x60) return 0xff;
    const v = this.outByte;
    const src = this.outSrc;
    if (src !== SRC_NONE) {
      this.outSrc = SRC_NONE;
      // Drop the line before the next byte moves in, so each byte is its own IRQ edge.
      this.updateIrq();
      if (src === SRC_AUX) this.emitMouse();
      this.service();
    }
    return v;
  }

  ioWrite(port: number, _size: AccessSize, value: number): void {
    value &= 0xff;
    if (port === 0x64) {
      this.a2 = true;
      this.pendingCmd = 0;
      this.command(value);
      return;
    }
    if (port !== 0x60) return;
    this.a2 = false;
    const cmd = this.pendingCmd;
    if (cmd !== 0) {
      this.pendingCmd = 0;
      this.commandData(cmd, value);
      return;
    }
    this.kbdWrite(value);
  }

  // --- Device --------------------------------------------------------------------------

  reset(): void {
    this.ram.fill(0);
    // Translation and both interrupts on, as firmware leaves it; SYS clear (cold boot).
    this.ram[0] = CB_XLATE | CB_KBD_INT | CB_AUX_INT;
    this.outByte = 0;
    this.outSrc = SRC_NONE;
    this.a2 = false;
    this.pendingCmd = 0;
    this.outPortBits = 0xc0;
    this.ctrlQueue.clear();
    this.kbdQueue.clear();
    this.auxQueue.clear();
    this.xlatBreak = false;
    this.kbdScanning = true;
    this.kbdPending = 0;
    this.kbdLast = 0;
    this.kbdDefaults();
    this.auxDefaults();
    this.auxWrap = false;
    this.auxPending = 0;
    this.auxLast = 0;
    this.auxId = 0;
    this.rateHistory = 0;
    this.auxSentButtons = this.auxButtons;
    this.auxDx = this.auxDy = this.auxDz = 0;
    this.updateIrq();
  }

  save(): DeviceState {
    return {
      version: 1,
      ram: Array.from(this.ram),
      outByte: this.outByte,
      outSrc: this.outSrc,
      a2: this.a2,
      pendingCmd: this.pendingCmd,
      outPortBits: this.outPortBits,
      ctrlQueue: this.ctrlQueue.toArray(),
      kbdQueue: this.kbdQueue.toArray(),
      auxQueue: this.auxQueue.toArray(),
      xlatBreak: this.xlatBreak,
      kbd: {
        scanning: this.kbdScanning,
        set: this.kbdSet,
        pending: this.kbdPending,
        last: this.kbdLast,
        leds: this.kbdLeds,
        typematic: this.kbdTypematic,
      },
      aux: {
        reporting: this.auxReporting,
        remote: this.auxRemote,
        wrap: this.auxWrap,
        scaling2: this.auxScaling2,
        rate: this.auxRate,
        resolution: this.auxResolution,
        pending: this.auxPending,
        last: this.auxLast,
        id: this.auxId,
        rateHistory: this.rateHistory,
        buttons: this.auxButtons,
        sentButtons: this.auxSentButtons,
        dx: this.auxDx,
        dy: this.auxDy,
        dz: this.auxDz,
      },
    };
  }

  restore(state: DeviceState): void {
    const r = new StateReader(this.name, state);
    r.version(1);
    const ram = r.ints('ram', 0, 0xff, 32);
    const outByte = r.int('outByte', 0, 0xff);
    const outSrc = r.int('outSrc', SRC_NONE, SRC_AUX);
    const a2 = r.bool('a2');
    const pendingCmd = r.int('pendingCmd', 0, 0xff);
    if (pendingCmd !== 0 && !((pendingCmd >= 0x60 && pendingCmd <= 0x7f) || (pendingCmd >= 0xd1 && pendingCmd <= 0xd4))) {
      r.fail('pendingCmd', 'is not a command that takes data');
    }
    const outPortBits = r.int('outPortBits', 0, 0xff);
    const ctrl = r.ints('ctrlQueue', 0, 0x2ff, 0, this.ctrlQueue.capacity);
    if (ctrl.some((v) => v >> 8 !== SRC_KBD && v >> 8 !== SRC_AUX)) r.fail('ctrlQueue', 'holds a reply without a source');
    const kbdQ = r.ints('kbdQueue', 0, 0xff, 0, QUEUE_SIZE);
    const auxQ = r.ints('auxQueue', 0, 0xff, 0, QUEUE_SIZE);
    const xlatBreak = r.bool('xlatBreak');
    const k = r.obj('kbd');
    const kbd = {
      scanning: k.bool('scanning'),
      set: k.int('set', 1, 2),
      pending: k.int('pending', 0, 0xff),
      last: k.int('last', 0, 0xff),
      leds: k.int('leds', 0, 7),
      typematic: k.int('typematic', 0, 0x7f),
    };
    if (![0, 0xed, 0xf0, 0xf3].includes(kbd.pending)) k.fail('pending', 'is not a keyboard command that takes an argument');
    const a = r.obj('aux');
    const aux = {
      reporting: a.bool('reporting'),
      remote: a.bool('remote'),
      wrap: a.bool('wrap'),
      scaling2: a.bool('scaling2'),
      rate: a.int('rate', 0, 0xff),
      resolution: a.int('resolution', 0, 3),
      pending: a.int('pending', 0, 0xff),
      last: a.int('last', 0, 0xff),
      id: a.int('id', 0, 4),
      rateHistory: a.int('rateHistory', 0, 0xffffff),
      buttons: a.int('buttons', 0, 7),
      sentButtons: a.int('sentButtons', 0, 7),
      dx: a.int('dx', -AUX_COUNTER_LIMIT, AUX_COUNTER_LIMIT),
      dy: a.int('dy', -AUX_COUNTER_LIMIT, AUX_COUNTER_LIMIT),
      dz: a.int('dz', -AUX_COUNTER_LIMIT, AUX_COUNTER_LIMIT),
    };
    if (![0, 0xe8, 0xf3].includes(aux.pending)) a.fail('pending', 'is not a mouse command that takes an argument');

    this.ram.set(ram);
    this.outByte = outByte;
    this.outSrc = outSrc;
    this.a2 = a2;
    this.pendingCmd = pendingCmd;
    this.outPortBits = outPortBits;
    this.ctrlQueue.load(ctrl);
    this.kbdQueue.load(kbdQ);
    this.auxQueue.load(auxQ);
    this.xlatBreak = xlatBreak;
    this.kbdScanning = kbd.scanning;
    this.kbdSet = kbd.set;
    this.kbdPending = kbd.pending;
    this.kbdLast = kbd.last;
    this.kbdLeds = kbd.leds;
    this.kbdTypematic = kbd.typematic;
    this.auxReporting = aux.reporting;
    this.auxRemote = aux.remote;
    this.auxWrap = aux.wrap;
    this.auxScaling2 = aux.scaling2;
    this.auxRate = aux.rate;
    this.auxResolution = aux.resolution;
    this.auxPending = aux.pending;
    this.auxLast = aux.last;
    this.auxId = aux.id;
    this.rateHistory = aux.rateHistory;
    this.auxButtons = aux.buttons;
    this.auxSentButtons = aux.sentButtons;
    this.auxDx = aux.dx;
    this.auxDy = aux.dy;
    this.auxDz = aux.dz;
    this.updateIrq();
  }

  /** The controller command byte (for debuggers and tests). */
  get controllerCommandByte(): number {
    return this.commandByte;
  }
}
