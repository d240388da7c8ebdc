; A freestanding 64 KiB firmware image that starts the application processors with the
; SDM's INIT-SIPI-SIPI sequence and reports on COM1 who checked in:
;   round=1 cpus=<1 + APs that ran the trampoline> ids=<BSP>,<APs...> cpuid=<BSP>,<APs...>
; ids come from each CPU's local APIC ID register (0xFEE00020, bits 31:24), cpuid from
; CPUID.1:EBX[31:24] (the initial APIC ID). Without a local APIC (CPUID.1:EDX bit 9 clear)
; no IPI is sent and ids falls back to the CPUID value.
;
; ROUND2 (set by the test before assembly) adds a second round after the APs have halted:
;   0  none
;   1  one more start-up IPI only: a processor that already left wait-for-SIPI must ignore it
;   2  INIT then a start-up IPI again: every AP runs the trampoline once more
; and prints its own "round=2 ..." line with a fresh count. Then cli; hlt everywhere.
;
; Assembled with bits 16, org 0 (test/support/nasm.ts); CS = F000 at the reset vector.

%define LIN(x) ((x) + 0xF0000)
%define COM1 0x3f8
%define LAPIC 0xFEE00000
%define LAPIC_ID 0x020
%define LAPIC_SVR 0x0F0
%define ICR_LO 0x300
%define ICR_HI 0x310
%define TRAMP 0x8000            ; page-aligned: the SIPI vector is TRAMP >> 12
%define COUNT 0x7000            ; APs that ran the trampoline (lock xadd)
%define APIC_IDS 0x7100         ; one byte per AP, in check-in order
%define CPUID_IDS 0x7200
%define BSP_APIC 0x7300         ; 1 when CPUID reports a local APIC
%define MAX_SLOTS 64
%define WINDOW 400000           ; wait iterations after the start-up IPIs (guest time, not host time)

bits 16
start:
  cli
  cld
  xor ax, ax
  mov ss, ax
  mov sp, 0x6ff0
  o32 lgdt [cs:gdt_desc]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:LIN(bsp32)

; ---------------------------------------------------------------- AP trampoline
; Copied to TRAMP; an AP runs it in real mode at CS = TRAMP >> 4, IP = 0. It switches to
; flat protected mode (the local APIC is at 0xFEE00000) and continues in the ROM.
tramp:
  cli
  o32 lgdt [cs:tramp_gdt_desc - tramp]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:LIN(ap32)
tramp_gdt_desc:
  dw gdt_end - gdt - 1
  dd LIN(gdt)
tramp_end:

gdt:
  dq 0
  dq 0x00cf9a000000ffff ; 0x08 flat 32-bit code
  dq 0x00cf92000000ffff ; 0x10 flat data
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd LIN(gdt)

bits 32
; ---------------------------------------------------------------- AP, protected mode
ap32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov eax, 1
  lock xadd [COUNT], eax          ; eax = this AP's slot
  cmp eax, MAX_SLOTS
  jae .park
  mov esi, eax
  mov ebx, [LAPIC + LAPIC_ID]
  shr ebx, 24
  mov [APIC_IDS + esi], bl
  mov eax, 1
  cpuid
  shr ebx, 24
  mov [CPUID_IDS + esi], bl
.park:
  cli
  hlt
  jmp .park

; ---------------------------------------------------------------- BSP, protected mode
bsp32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, 0x6ff0

  mov esi, LIN(tramp)
  mov edi, TRAMP
  mov ecx, tramp_end - tramp
  rep movsb

  mov eax, 1
  cpuid
  shr edx, 9
  and edx, 1
  mov [BSP_APIC], edx
  jz .no_apic
  ; Software-enable the BSP's local APIC (spurious vector 0xFF), as firmware does first.
  mov dword [LAPIC + LAPIC_SVR], 0x1ff
.no_apic:

  call clear_round
  call start_aps
  call window
  mov eax, 1
  call report

%if ROUND2 != 0
  call clear_round
  cmp dword [BSP_APIC], 0
  je .round2_done
%if ROUND2 == 2
  mov eax, 0x000C4500             ; INIT, all excluding self
  call send_ipi
  call short_delay
%endif
  mov eax, 0x000C4600 | (TRAMP >> 12) ; start-up IPI, all excluding self
  call send_ipi
  call window
.round2_done:
  mov eax, 2
  call report
%endif

.stop:
  cli
  hlt
  jmp .stop

clear_round:
  mov dword [COUNT], 0
  mov edi, APIC_IDS
  mov ecx, 0x200
  mov al, 0xff
  rep stosb
  ret

; INIT, ~10 ms, SIPI, ~200 us, SIPI (SDM vol. 3 §8.4.4.1), to all APs at once.
start_aps:
  cmp dword [BSP_APIC], 0
  je .done
  mov eax, 0x000C4500
  call send_ipi
  call short_delay
  mov eax, 0x000C4600 | (TRAMP >> 12)
  call send_ipi
  call short_delay
  mov eax, 0x000C4600 | (TRAMP >> 12)
  call send_ipi
.done:
  ret

send_ipi:
  mov dword [LAPIC + ICR_HI], 0
  mov [LAPIC + ICR_LO], eax
.busy:
  test dword [LAPIC + ICR_LO], 1 << 12 ; delivery status
  jnz .busy
  ret

short_delay:
  mov ecx, 20000
.l:
  pause
  dec ecx
  jnz .l
  ret

; Let the APs run: a fixed window, whatever the count, so a late or extra CPU is counted too.
window:
  mov ecx, WINDOW
.l:
  pause
  dec ecx
  jnz .l
  ret

; Print "round=<eax> cpus=<1+COUNT> ids=... cpuid=...\n".
report:
  push eax
  mov esi, LIN(s_round)
  call puts
  pop eax
  call putdec
  mov esi, LIN(s_cpus)
  call puts
  mov eax, [COUNT]
  inc eax
  call putdec
  ; ids: the BSP's, then each AP's in check-in order
  mov esi, LIN(s_ids)
  call puts
  cmp dword [BSP_APIC], 0
  je .bsp_cpuid_id
  mov eax, [LAPIC + LAPIC_ID]
  shr eax, 24
  jmp .bsp_id
.bsp_cpuid_id:
  mov eax, 1
  cpuid
  mov eax, ebx
  shr eax, 24
.bsp_id:
  call putdec
  mov ebx, APIC_IDS
  call put_slots
  mov esi, LIN(s_cpuid)
  call puts
  mov eax, 1
  cpuid
  mov eax, ebx
  shr eax, 24
  call putdec
  mov ebx, CPUID_IDS
  call put_slots
  mov al, 10
  call putc
  ret

; ",<id>" for each AP slot at EBX (up to COUNT, at most MAX_SLOTS).
put_slots:
  mov ecx, [COUNT]
  cmp ecx, MAX_SLOTS
  jbe .n
  mov ecx, MAX_SLOTS
.n:
  test ecx, ecx
  jz .done
.l:
  mov al, ','
  call putc
  movzx eax, byte [ebx]
  call putdec
  inc ebx
  dec ecx
  jnz .l
.done:
  ret

putc:
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

puts:
  push eax
.next:
  lodsb
  test al, al
  jz .done
  call putc
  jmp .next
.done:
  pop eax
  ret

putdec:
  push eax
  push ebx
  push ecx
  push edx
  mov ebx, 10
  xor ecx, ecx
.div:
  xor edx, edx
  div ebx
  push edx
  inc ecx
  test eax, eax
  jnz .div
.out:
  pop eax
  add al, '0'
  call putc
  dec ecx
  jnz .out
  pop edx
  pop ecx
  pop ebx
  pop eax
  ret

s_round: db 'round=', 0
s_cpus: db ' cpus=', 0
s_ids: db ' ids=', 0
s_cpuid: db ' cpuid=', 0

bits 16
times 0xfff0 - ($ - $$) db 0
reset:
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
