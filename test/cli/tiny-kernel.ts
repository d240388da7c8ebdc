/**
 * Tiny bzImages for CLI tests: a valid boot-protocol header (setup_sects = 1) followed by
 * 32-bit code that the loader enters at 1 MiB. Built with nasm at test time.
 */
import { writeFileSync } from 'node:fs';
import { assemble } from '../support/nasm.js';

/** `code32` is nasm source for the protected-mode entry (bits 32, org 0x100000). */
export function buildTinyBzImage(path: string, code32: string): void {
  const setup = new Uint8Array(1024);
  const dv = new DataView(setup.buffer);
  setup[0x1f1] = 1; // setup_sects
  dv.setUint16(0x1fe, 0xaa55, true);
  setup.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  dv.setUint16(0x206, 0x020f, true); // protocol 2.15
  setup[0x201] = 0x6a; // header length byte (jump)
  setup[0x211] = 0x01; // LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true); // code32_start
  dv.setUint32(0x22c, 0x7fffffff, true); // initrd_addr_max
  dv.setUint32(0x238, 2047, true); // cmdline_size
  dv.setUint32(0x260, 0x10000, true); // init_size
  const payload = assemble(code32, 32, 0x100000);
  const image = new Uint8Array(setup.length + payload.length);
  image.set(setup);
  image.set(payload, setup.length);
  writeFileSync(path, image);
}

/** Print `text` on COM1 (polling the LSR), then run `tail` (nasm source). */
export function printThen(text: string, tail: string): string {
  const bytes = Array.from(Buffer.from(text)).join(',');
  return `
    mov esi, msg
  .next:
    lodsb
    test al, al
    jz .done
    mov ah, al
    mov dx, 0x3fd
  .wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp .next
  .done:
    ${tail}
  msg: db ${bytes}, 0`;
}
