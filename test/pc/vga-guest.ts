/**
 * A one-sector guest for the display tests, booted by SeaBIOS from a raw disk: it prints a
 * line through the VGA BIOS (int 10h teletype, text mode 3), says "TEXT" on COM1, waits
 * for a key (int 16h, through the PS/2 keyboard), sets VBE mode 0x142 (640x480, 32 bpp)
 * with a linear framebuffer through the VGA BIOS, fills it with a pattern from protected
 * mode, says "VBE" on COM1 and halts with interrupts off (the run ends).
 */
import { assemble } from '../support/nasm.js';

export const TEXT_LINE = 'TERRARIUM TEXT MODE 0123456789 abcxyz';
export const VBE_WIDTH = 640;
export const VBE_HEIGHT = 480;

/** The pattern the guest draws: pixel (x, y) as [r, g, b]. */
export function patternAt(x: number, y: number): [number, number, number] {
  return [(x ^ y) & 0xff, y & 0xff, x & 0xff];
}

const SOURCE = `
start:
  cli
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7c00
  sti
  mov ax, 0x0003
  int 0x10
  mov si, line
.print:
  lodsb
  test al, al
  jz .printed
  mov ah, 0x0e
  mov bx, 0x0007
  int 0x10
  jmp .print
.printed:
  mov si, saytext
  call serial
  xor ax, ax
  int 0x16
  ; VBE mode information for 0x142 into 0x8000; the linear framebuffer address is at +0x28.
  mov ax, 0x4f01
  mov cx, 0x142
  mov di, 0x8000
  int 0x10
  cmp ax, 0x004f
  jne fail
  cmp byte [0x8000 + 0x19], 32
  jne fail
  mov ax, 0x4f02
  mov bx, 0x4142
  int 0x10
  cmp ax, 0x004f
  jne fail
  cli
  lgdt [gdtr]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:pm
fail:
  mov si, sayfail
  call serial
  cli
  hlt
serial:
  lodsb
  test al, al
  jz .done
  mov dx, 0x3f8
  out dx, al
  jmp serial
.done:
  ret
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov edi, [0x8000 + 0x28]
  xor ebx, ebx
.row:
  xor ecx, ecx
.col:
  mov eax, ebx
  xor eax, ecx
  and eax, 0xff
  shl eax, 16
  mov edx, ebx
  and edx, 0xff
  shl edx, 8
  or eax, edx
  mov edx, ecx
  and edx, 0xff
  or eax, edx
  stosd
  inc ecx
  cmp ecx, ${VBE_WIDTH}
  jb .col
  inc ebx
  cmp ebx, ${VBE_HEIGHT}
  jb .row
  mov esi, sayvbe
  mov dx, 0x3f8
.say:
  lodsb
  test al, al
  jz .halt
  out dx, al
  jmp .say
.halt:
  hlt
  jmp .halt
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
gdtr:
  dw 23
  dd gdt
line: db '${TEXT_LINE}', 0
saytext: db 'TEXT', 10, 0
sayvbe: db 'VBE', 10, 0
sayfail: db 'VBEFAIL', 10, 0
times 510 - ($ - $$) db 0
dw 0xaa55
`;

/** A 1 MiB raw disk whose boot sector is the guest. */
export function buildVgaGuestDisk(): Uint8Array {
  const sector = assemble(SOURCE, 16, 0x7c00);
  if (sector.length !== 512) throw new Error(`boot sector is ${sector.length} bytes`);
  const disk = new Uint8Array(1 << 20);
  disk.set(sector);
  return disk;
}
