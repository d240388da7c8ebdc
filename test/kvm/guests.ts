/**
 * Small guests for the backend suite: 64 KiB BIOS ROMs built with nasm at test time. Each
 * starts at the reset vector in real mode, prints to COM1 (polling), and powers off through
 * the PIIX4 PM block (PMBA 0x600, S5 = sleep type 0, as the PCI PC decodes it).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../support/nasm.js';

/** The test port device (see devices.ts) and MMIO device. */
export const TEST_PORT = 0x700;
export const TEST_MMIO = 0xfed00000;

/** Shared prologue and helpers; `body16` runs first, in real mode with DS = CS = F000. */
function frame(body16: string, more = ''): string {
  return `
%define LIN(x) ((x) + 0xF0000)
%define COM1 0x3f8
%define TESTPORT ${TEST_PORT}
%define MMIO ${TEST_MMIO}
%define VARS 0x600

%macro PRINT16 1
  jmp %%after
%%s: db %1, 0
%%after:
  push si
  mov si, %%s
  call puts16
  pop si
%endmacro

%macro PRINT32 1
  jmp %%after
%%s: db %1, 0
%%after:
  push esi
  mov esi, LIN(%%s)
  call puts32
  pop esi
%endmacro

%macro PRINT64 1
  jmp %%after
%%s: db %1, 0
%%after:
  push rsi
  mov rsi, LIN(%%s)
  call puts64
  pop rsi
%endmacro

; Flat data segments and a stack, first thing in 32-bit code.
%macro ENTER32 0
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, 0x7000
%endmacro

; PIT channel 0 as a 100 Hz rate generator (IRQ0); clobbers AX.
%macro PIT_100HZ 0
  mov al, 0x34
  out 0x43, al
  mov ax, 11932
  out 0x40, al
  mov al, ah
  out 0x40, al
%endmacro

; From real mode to flat 32-bit protected mode at %1.
%macro GOTO32 1
  lgdt [cs:gdt_desc]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:LIN(%1)
%endmacro

bits 16
start:
  cli
  cld
  xor ax, ax
  mov ss, ax
  mov sp, 0x7000
  mov ax, cs
  mov ds, ax
${body16}

; ---------------------------------------------------------------- 16-bit helpers
putc16:
  push dx
  push ax
  mov dx, COM1 + 5
.wait:
  in al, dx
  test al, 0x20
  jz .wait
  pop ax
  mov dx, COM1
  out dx, al
  pop dx
  ret

puts16:
  push ax
.next:
  lodsb
  test al, al
  jz .done
  call putc16
  jmp .next
.done:
  pop ax
  ret

; Print the low CX hex digits of EAX.
hex16:
  push eax
  push ebx
  push cx
  push dx
  mov ebx, eax
  mov dx, cx
  mov cx, 8
  sub cx, dx
  shl cx, 2
  shl ebx, cl
  mov cx, dx
.digit:
  rol ebx, 4
  mov al, bl
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'a' - '9' - 1
.out:
  call putc16
  loop .digit
  pop dx
  pop cx
  pop ebx
  pop eax
  ret

poweroff16:
  ; PIIX4 PM at 00:01.3: PMBA = 0x600, PMREGMISC.0 = 1, then PM1_CNT = SLP_EN | SLP_TYP 0.
  mov dx, 0xcf8
  mov eax, 0x80000b40
  out dx, eax
  mov dx, 0xcfc
  mov eax, 0x601
  out dx, eax
  mov dx, 0xcf8
  mov eax, 0x80000b80
  out dx, eax
  mov dx, 0xcfc
  mov al, 1
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
.stuck:
  cli
  hlt
  jmp .stuck

gdt:
  dq 0
  dq 0x00cf9a000000ffff ; 0x08 flat 32-bit code
  dq 0x00cf92000000ffff ; 0x10 flat data
  dq 0x00af9a000000ffff ; 0x18 64-bit code
gdt_desc:
  dw gdt_desc - gdt - 1
  dd LIN(gdt)

; ---------------------------------------------------------------- 32-bit helpers
bits 32
putc32:
  push edx
  push eax
  mov dx, COM1 + 5
.wait:
  in al, dx
  test al, 0x20
  jz .wait
  pop eax
  mov dx, COM1
  out dx, al
  pop edx
  ret

puts32:
  push eax
.next:
  lodsb
  test al, al
  jz .done
  call putc32
  jmp .next
.done:
  pop eax
  ret

; Print the low ECX hex digits of EAX.
hex32:
  push eax
  push ebx
  push ecx
  push edx
  mov ebx, eax
  mov edx, ecx
  mov ecx, 8
  sub ecx, edx
  shl ecx, 2
  shl ebx, cl
  mov ecx, edx
.digit:
  rol ebx, 4
  mov al, bl
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'a' - '9' - 1
.out:
  call putc32
  loop .digit
  pop edx
  pop ecx
  pop ebx
  pop eax
  ret

poweroff32:
  mov dx, 0xcf8
  mov eax, 0x80000b40
  out dx, eax
  mov dx, 0xcfc
  mov eax, 0x601
  out dx, eax
  mov dx, 0xcf8
  mov eax, 0x80000b80
  out dx, eax
  mov dx, 0xcfc
  mov al, 1
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
.stuck:
  cli
  hlt
  jmp .stuck

${more}

bits 16
times 0xfff0 - ($ - $$) db 0
reset:
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
`;
}

export interface Guest {
  name: string;
  source: string;
  /** Serial output both backends must print. */
  expected: string;
}

const realMode: Guest = {
  name: 'real mode',
  expected: 'real: mul=00012340 int80 alias=cafef00d\n',
  source: frame(`
  PRINT16 'real: mul='
  mov ax, 0x1234
  mov bx, 0x10
  mul bx
  shl edx, 16
  mov dx, ax
  mov eax, edx
  mov cx, 8
  call hex16
  ; An interrupt-style far call through the real-mode IVT (PUSHF + CALL FAR; a real-mode
  ; INT n never returns from KVM_RUN on PVM hosts).
  xor ax, ax
  mov es, ax
  mov word [es:0x80 * 4], int80
  mov word [es:0x80 * 4 + 2], cs
  pushf
  call far [es:0x80 * 4]
  ; Segment arithmetic: 2000:0010 and 2001:0000 are the same byte.
  mov ax, 0x2000
  mov es, ax
  mov dword [es:0x10], 0xcafef00d
  mov ax, 0x2001
  mov fs, ax
  PRINT16 ' alias='
  mov eax, [fs:0]
  mov cx, 8
  call hex16
  PRINT16 {10}
  jmp poweroff16

int80:
  PRINT16 ' int80'
  iret
`),
};

const protectedMode: Guest = {
  name: 'protected mode',
  expected: 'real, protected: bswap=efcdab89 high=13572468 ok\n',
  source: frame(
    `
  PRINT16 'real, '
  GOTO32 pm
`,
    `
pm:
  ENTER32
  PRINT32 'protected: bswap='
  mov eax, 0x89abcdef
  bswap eax
  mov ecx, 8
  call hex32
  ; RAM above 1 MiB.
  mov dword [0x200000], 0x13572468
  PRINT32 ' high='
  mov eax, [0x200000]
  call hex32
  PRINT32 {' ok', 10}
  jmp poweroff32
`,
  ),
};

const longMode: Guest = {
  name: 'long mode',
  expected: 'real, protected, long: rax=0123456789abcdef mmio64=fedcba9876543210\n',
  source: frame(
    `
  PRINT16 'real, '
  GOTO32 pm
`,
    `
pm:
  ENTER32
  PRINT32 'protected, '
  ; Page tables at 0x10000: identity-map 0-2 MiB and the 2 MiB around the MMIO device.
  mov edi, 0x10000
  mov ecx, 4 * 1024
  xor eax, eax
  rep stosd
  mov dword [0x10000], 0x11003          ; PML4[0] -> PDPT
  mov dword [0x11000], 0x12003          ; PDPT[0] -> PD (0-1 GiB)
  mov dword [0x11000 + 3 * 8], 0x13003  ; PDPT[3] -> PD (3-4 GiB)
  mov dword [0x12000], 0x83             ; 0-2 MiB
  mov dword [0x13000 + ((MMIO >> 21) & 511) * 8], (MMIO & 0xffe00000) | 0x83
  mov eax, cr4
  or eax, 0x20                          ; PAE
  mov cr4, eax
  mov eax, 0x10000
  mov cr3, eax
  mov ecx, 0xc0000080
  rdmsr
  or eax, 0x100                         ; EFER.LME
  wrmsr
  mov eax, cr0
  or eax, 0x80000000                    ; PG
  mov cr0, eax
  jmp 0x18:LIN(lm)

bits 64
lm:
  PRINT64 'long: rax='
  mov rax, 0x0123456789abcdef
  call hex64
  ; An 8-byte MMIO write and read.
  mov rax, 0xfedcba9876543210
  mov rbx, MMIO
  mov [rbx], rax
  xor rax, rax
  mov rax, [rbx]
  PRINT64 ' mmio64='
  call hex64
  PRINT64 {10}
  ; Power off (ports work the same in long mode).
  mov dx, 0xcf8
  mov eax, 0x80000b40
  out dx, eax
  mov dx, 0xcfc
  mov eax, 0x601
  out dx, eax
  mov dx, 0xcf8
  mov eax, 0x80000b80
  out dx, eax
  mov dx, 0xcfc
  mov al, 1
  out dx, al
  mov dx, 0x604
  mov ax, 0x2000
  out dx, ax
  cli
  hlt

putc64:
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

puts64:
  push rax
.next:
  lodsb
  test al, al
  jz .done
  call putc64
  jmp .next
.done:
  pop rax
  ret

hex64:
  push rax
  push rbx
  push rcx
  mov rbx, rax
  mov ecx, 16
.digit:
  rol rbx, 4
  mov al, bl
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'a' - '9' - 1
.out:
  call putc64
  loop .digit
  pop rcx
  pop rbx
  pop rax
  ret
bits 32
`,
  ),
};

const portIo: Guest = {
  name: 'port I/O of every width, string I/O with REP',
  expected:
    'ports: 5a 1234 deadbeef be dead / ff ffff ffffffff / 0030 ABCDEFGHIJKLMNOPabcdefghijklmnop0123456789:;<=>? / 53747269 6e672069 6e206477 6f726473\n',
  source: frame(`
  PRINT16 'ports: '
  mov dx, TESTPORT
  mov al, 0x5a
  out dx, al
  in al, dx
  mov cx, 2
  call hex16
  PRINT16 ' '
  mov ax, 0x1234
  out dx, ax
  in ax, dx
  mov cx, 4
  call hex16
  PRINT16 ' '
  mov eax, 0xdeadbeef
  out dx, eax
  in eax, dx
  mov cx, 8
  call hex16
  PRINT16 ' '
  inc dx
  xor eax, eax
  in al, dx
  mov cx, 2
  call hex16
  PRINT16 ' '
  inc dx
  in ax, dx
  mov cx, 4
  call hex16
  ; Nobody decodes 0x7f0: all ones at every width.
  PRINT16 ' / '
  mov dx, 0x7f0
  in al, dx
  mov cx, 2
  call hex16
  PRINT16 ' '
  in ax, dx
  mov cx, 4
  call hex16
  PRINT16 ' '
  in eax, dx
  mov cx, 8
  call hex16
  ; REP OUTS of bytes, words and dwords into the device's FIFO.
  PRINT16 ' / '
  mov dx, TESTPORT + 4
  mov si, bytes16
  mov cx, 16
  rep outsb
  mov si, words8
  mov cx, 8
  rep outsw
  mov si, dwords4
  mov cx, 4
  rep outsd
  mov dx, TESTPORT + 8
  xor eax, eax
  in ax, dx
  mov cx, 4
  call hex16
  PRINT16 ' '
  ; REP INSB all of it back into RAM, and print it.
  mov ax, 0x300
  mov es, ax
  xor di, di
  mov cx, 48
  mov dx, TESTPORT + 4
  rep insb
  mov byte [es:48], 0
  push ds
  mov ax, es
  mov ds, ax
  xor si, si
  call puts16
  pop ds
  ; And REP INSD: 16 more bytes, read as 4 dwords.
  PRINT16 ' / '
  mov dx, TESTPORT + 4
  mov si, text16
  mov cx, 16
  rep outsb
  xor di, di
  mov cx, 4
  rep insd
  xor bx, bx
.dw:
  mov eax, [es:bx]
  bswap eax
  mov cx, 8
  call hex16
  add bx, 4
  cmp bx, 16
  je .dwdone
  PRINT16 ' '
  jmp .dw
.dwdone:
  PRINT16 {10}
  jmp poweroff16

bytes16: db 'ABCDEFGHIJKLMNOP'
words8: db 'abcdefghijklmnop'
dwords4: db '0123456789:;<=>?'
text16: db 'String in dwords'
`),
};

const mmio: Guest = {
  name: 'MMIO reads and writes to a device',
  expected: 'mmio: 44332211 7766 88 / count 00000003 / stos a5a5a5a5 movs 2d534f4d 2d4f4942 / hole ffffffff\n',
  source: frame(
    `
  PRINT16 'mmio: '
  GOTO32 pm
`,
    `
pm:
  ENTER32
  mov byte [MMIO], 0x11
  mov byte [MMIO + 1], 0x22
  mov word [MMIO + 2], 0x4433
  mov eax, [MMIO]
  mov ecx, 8
  call hex32
  PRINT32 ' '
  mov dword [MMIO + 4], 0x88776655
  xor eax, eax
  mov ax, [MMIO + 5]
  mov ecx, 4
  call hex32
  PRINT32 ' '
  mov al, [MMIO + 7]
  mov ecx, 2
  call hex32
  ; A register that counts its reads.
  PRINT32 ' / count '
  mov eax, [MMIO + 0x40]
  mov eax, [MMIO + 0x40]
  mov eax, [MMIO + 0x40]
  mov ecx, 8
  call hex32
  ; String instructions on MMIO.
  PRINT32 ' / stos '
  mov edi, MMIO + 0x20
  mov eax, 0xa5a5a5a5
  mov ecx, 4
  rep stosd
  mov eax, [MMIO + 0x2c]
  mov ecx, 8
  call hex32
  PRINT32 ' movs '
  mov esi, LIN(movsrc)
  mov edi, MMIO + 0x30
  mov ecx, 8
  rep movsb
  mov eax, [MMIO + 0x30]
  mov ecx, 8
  call hex32
  PRINT32 ' '
  mov eax, [MMIO + 0x34]
  call hex32
  ; Nothing decodes in the PCI hole: all ones.
  PRINT32 ' / hole '
  mov eax, [0xe0000000]
  call hex32
  PRINT32 {10}
  jmp poweroff32
movsrc: db 'MOS-BIO-'
`,
  ),
};

const interrupts: Guest = {
  name: 'timer and UART interrupts delivered and acknowledged, HLT until an interrupt',
  expected: 'irq: ticks=5 via-irq uart-done\n',
  source: frame(`
  PRINT16 'irq: '
  xor ax, ax
  mov es, ax
  mov word [es:VARS], 0       ; ticks
  mov word [es:VARS + 2], 0   ; UART message index
  mov byte [es:VARS + 4], 0   ; UART done
  mov word [es:0x20 * 4], timer_isr
  mov word [es:0x20 * 4 + 2], cs
  mov word [es:0x24 * 4], uart_isr
  mov word [es:0x24 * 4 + 2], cs
  ; 8259 pair: vectors 0x20/0x28, cascade on IR2, 8086 mode; only IRQ0 unmasked.
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x20
  out 0x21, al
  mov al, 0x28
  out 0xa1, al
  mov al, 4
  out 0x21, al
  mov al, 2
  out 0xa1, al
  mov al, 1
  out 0x21, al
  out 0xa1, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  PIT_100HZ
  sti
.ticks:
  hlt
  cmp word [es:VARS], 5
  jb .ticks
  cli
  mov al, 0xff
  out 0x21, al
  PRINT16 'ticks=5'
  ; COM1 THR-empty interrupts on IRQ4 (OUT2 gates the line, as on a PC).
  mov al, 0xef
  out 0x21, al
  mov dx, COM1 + 4
  mov al, 0x0b
  out dx, al
  mov dx, COM1 + 1
  mov al, 0x02
  out dx, al
  sti
.uart:
  hlt
  cmp byte [es:VARS + 4], 1
  jne .uart
  cli
  PRINT16 {' uart-done', 10}
  jmp poweroff16

timer_isr:
  push ax
  inc word [ss:VARS]
  mov al, 0x20
  out 0x20, al
  pop ax
  iret

uart_isr:
  push ax
  push dx
  push si
  mov dx, COM1 + 2
  in al, dx                   ; IIR: reading it acknowledges THR empty
  mov si, [ss:VARS + 2]
  mov al, [cs:uart_msg + si]
  test al, al
  jz .last
  mov dx, COM1
  out dx, al
  inc word [ss:VARS + 2]
  jmp .eoi
.last:
  mov dx, COM1 + 1
  xor al, al
  out dx, al
  mov byte [ss:VARS + 4], 1
.eoi:
  mov al, 0x20
  out 0x20, al
  pop si
  pop dx
  pop ax
  iret
uart_msg: db ' via-irq', 0
`),
};

const tripleFault: Guest = {
  name: 'a triple fault reported as a crash',
  expected: 'about to triple fault\n',
  source: frame(
    `
  PRINT16 {'about to triple fault', 10}
  GOTO32 pm
`,
    `
pm:
  ENTER32
  lidt [LIN(null_idt)]
  ud2
null_idt:
  dw 0
  dd 0
`,
  ),
};

/**
 * The PIT's IRQ0 through the I/O APIC: both PICs masked, the local APIC enabled, I/O APIC pin 2
 * (where the MADT's and SeaBIOS's IRQ0 override put the timer) sends vector 0x30 to APIC 0,
 * and with interrupts off the vector must show up in the local APIC's IRR (bit 16 of IRR
 * word 1). Polled, not taken: PVM's in-kernel emulator cannot run a 32-bit IRET. Needs local
 * APICs: the software CPU's, or KVM's in-kernel ones.
 */
export const IOAPIC_TIMER: Guest = {
  name: 'the timer (ISA IRQ0) arrives on I/O APIC pin 2',
  expected: 'ioapic: pin2 vector 30 pending\n',
  source: frame(
    `
  GOTO32 pm
`,
    `
pm:
  ENTER32
  PRINT32 'ioapic: '
  mov al, 0xff
  out 0x21, al
  out 0xa1, al
  ; Local APIC: enabled, spurious vector 0xFF, accept every priority.
  mov dword [0xFEE000F0], 0x1ff
  mov dword [0xFEE00080], 0
  ; I/O APIC redirection entry 2: vector 0x30, fixed, physical, edge, active high, to APIC 0.
  mov dword [0xFEC00000], 0x15
  mov dword [0xFEC00010], 0
  mov dword [0xFEC00000], 0x14
  mov dword [0xFEC00010], 0x30
  PIT_100HZ
.wait:
  test dword [0xFEE00210], 1 << 16
  jz .wait
  PRINT32 {'pin2 vector 30 pending', 10}
  jmp poweroff32
`,
  ),
};

/** The suite: each guest prints its line and powers off (the triple fault crashes instead). */
export const GUESTS: Guest[] = [realMode, protectedMode, longMode, portIo, mmio, interrupts, tripleFault];
export const TRIPLE_FAULT = tripleFault;

/** A guest that prints and then spins, counting in RAM at 0x500. */
export const SPINNER = frame(`
  PRINT16 {'spinning', 10}
  xor ax, ax
  mov es, ax
  mov dword [es:0x500], 0
.spin:
  inc dword [es:0x500]
  jmp .spin
`);

/** A guest that prints and then halts forever with interrupts enabled (nothing will come). */
export const SLEEPER = frame(`
  mov al, 0xff
  out 0x21, al
  out 0xa1, al
  PRINT16 {'halting', 10}
  sti
.sleep:
  hlt
  jmp .sleep
`);

/**
 * A guest that resets the machine twice through the PCI reset control register (0xCF9),
 * counting boots in RAM (RAM survives a reset), then powers off.
 */
export const REBOOTER: Guest = {
  name: 'reset through 0xCF9',
  expected: 'boot 1\nboot 2\nboot 3, done\n',
  source: frame(`
  xor ax, ax
  mov es, ax
  cmp dword [es:0x504], 0x600dcafe
  je .counted
  mov dword [es:0x504], 0x600dcafe
  mov word [es:0x500], 0
.counted:
  inc word [es:0x500]
  PRINT16 'boot '
  xor eax, eax
  mov ax, [es:0x500]
  mov cx, 1
  call hex16
  cmp word [es:0x500], 3
  je .done
  PRINT16 {10}
  mov dx, 0xcf9
  mov al, 0x02
  out dx, al
  mov al, 0x06
  out dx, al
.wait:
  jmp .wait
.done:
  PRINT16 {', done', 10}
  jmp poweroff16
`),
};

/** A ROM that prints and halts with interrupts off (the CLI acceptance check). */
export const PRINT_AND_HALT = frame(`
  PRINT16 {'hello from a 64 KiB ROM', 10}
  cli
  hlt
`);

let dir: string | null = null;

/** Assemble a ROM and write it to a temporary file; returns the path. */
export function buildRom(name: string, source: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'terrarium-kvm-guests-'));
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.rom`);
  writeFileSync(file, assemble(source, 16, 0));
  return file;
}
