/**
 * A tiny bzImage with both boot protocol entry points (protocol 2.15, XLF_KERNEL_64):
 * the 32-bit entry at code32_start prints "entry32"; the 64-bit entry at code32_start + 0x200
 * prints what it finds (CS, EFER, RSI, the e820 map, the command line, the initrd) and
 * powers off through the direct-boot ACPI PM block (0x600, S5 = sleep type 5).
 */
import { writeFileSync } from 'node:fs';
import { assemble } from '../support/nasm.js';

const COMMON = `
%define COM1 0x3f8
%macro POWEROFF 0
  mov dx, 0x604
  mov ax, 0x3400
  out dx, ax
%endmacro
`;

const ENTRY32 = `
${COMMON}
bits 32
  mov esi, msg32
.next:
  lodsb
  test al, al
  jz .done
  mov ah, al
  mov dx, COM1 + 5
.wait:
  in al, dx
  test al, 0x20
  jz .wait
  mov al, ah
  mov dx, COM1
  out dx, al
  jmp .next
.done:
  POWEROFF
  cli
  hlt
msg32: db 'entry32', 10, 0
times 0x200 - ($ - $$) db 0
`;

const ENTRY64 = `
${COMMON}
%macro PRINT 1
  jmp %%after
%%s: db %1, 0
%%after:
  push rsi
  lea rsi, [rel %%s]
  call puts
  pop rsi
%endmacro

bits 64
entry64:
  mov rbx, rsi
  PRINT 'entry64 cs='
  xor eax, eax
  mov ax, cs
  mov ecx, 4
  call hex
  PRINT ' efer='
  mov ecx, 0xc0000080
  rdmsr
  mov ecx, 8
  call hex
  PRINT ' rsi='
  mov rax, rbx
  mov ecx, 8
  call hex
  PRINT {10, 'e820'}
  movzx r12, byte [rbx + 0x1e8]
  lea r13, [rbx + 0x2d0]
.e820:
  test r12, r12
  jz .e820done
  PRINT ' '
  mov rax, [r13]
  mov ecx, 9
  call hex
  PRINT '+'
  mov rax, [r13 + 8]
  mov ecx, 9
  call hex
  PRINT ':'
  mov eax, [r13 + 16]
  mov ecx, 1
  call hex
  add r13, 20
  dec r12
  jmp .e820
.e820done:
  PRINT {10, 'cmdline: '}
  mov esi, [rbx + 0x228]
  call puts
  PRINT {10, 'initrd '}
  mov eax, [rbx + 0x218]
  mov ecx, 8
  call hex
  PRINT '+'
  mov eax, [rbx + 0x21c]
  mov ecx, 8
  call hex
  PRINT ': '
  mov esi, [rbx + 0x218]
  mov ecx, [rbx + 0x21c]
.initrd:
  lodsb
  call putc
  loop .initrd
  PRINT {10}
  POWEROFF
  cli
  hlt

putc:
  push rdx
  push rax
  mov dx, COM1 + 5
.wait:
  in al, dx
  test al, 0x20
  jz .wait
  pop rax
  mov dx, COM1
  out dx, al
  pop rdx
  ret

puts:
  push rax
.next:
  lodsb
  test al, al
  jz .done
  call putc
  jmp .next
.done:
  pop rax
  ret

; The low RCX hex digits of RAX.
hex:
  push rax
  push rbx
  push rcx
  push rdx
  mov rbx, rax
  mov rdx, rcx
  mov rcx, 16
  sub rcx, rdx
  shl rcx, 2
  shl rbx, cl
  mov rcx, rdx
.digit:
  rol rbx, 4
  mov al, bl
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'a' - '9' - 1
.out:
  call putc
  loop .digit
  pop rdx
  pop rcx
  pop rbx
  pop rax
  ret
`;

export function buildKernel64(path: string): void {
  const setup = new Uint8Array(1024);
  const dv = new DataView(setup.buffer);
  setup[0x1f1] = 1; // setup_sects
  dv.setUint16(0x1fe, 0xaa55, true);
  setup.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  dv.setUint16(0x206, 0x020f, true); // protocol 2.15
  setup[0x201] = 0x6a;
  setup[0x211] = 0x01; // LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true); // code32_start
  dv.setUint32(0x22c, 0x7fffffff, true); // initrd_addr_max
  dv.setUint16(0x236, 0x0001, true); // xloadflags: XLF_KERNEL_64
  dv.setUint32(0x238, 2047, true); // cmdline_size
  dv.setUint32(0x260, 0x10000, true); // init_size
  const code32 = assemble(ENTRY32, 32, 0x100000);
  const code64 = assemble(ENTRY64, 64, 0x100200);
  const image = new Uint8Array(setup.length + code32.length + code64.length);
  image.set(setup);
  image.set(code32, setup.length);
  image.set(code64, setup.length + code32.length);
  writeFileSync(path, image);
}
