/**
 * A tiny bzImage (32-bit protected mode, paging off, flat) that drives the machine's e1000
 * the way a driver does, with nothing but its registers and DMA: it finds BAR0 in PCI config
 * space (00:03.0, which the direct boot has assigned and enabled), reads the MAC from the
 * EEPROM through EERD, reports STATUS.LU, sets up one TX and one RX ring in its RAM, sends an
 * ARP request for the NAT's gateway and prints the sender of the first ARP reply it receives.
 * Everything it learns goes to COM1; then it halts with interrupts off, which ends the run.
 */

/** Guest-physical layout (the machine has 16 MiB; the kernel sits at 1 MiB). */
const TX_RING = 0x200000;
const RX_RING = 0x201000;
const TX_BUF = 0x202000;
const RX_BUFS = 0x203000; // 8 buffers of 2 KiB (RCTL.BSIZE = 0)
/** Polls of the RX descriptor, each with a STATUS read (an exit that lets the host run). */
const RX_POLLS = 200_000;

export const E1000_GUEST = `
%define BAR0_CFG 0x80001810       ; bus 0, device 3, function 0, register 0x10
%define STATUS 0x0008
%define EERD 0x0014
%define RCTL 0x0100
%define TCTL 0x0400
%define RDBAL 0x2800
%define RDBAH 0x2804
%define RDLEN 0x2808
%define RDH 0x2810
%define RDT 0x2818
%define TDBAL 0x3800
%define TDBAH 0x3804
%define TDLEN 0x3808
%define TDH 0x3810
%define TDT 0x3818
%define RAL0 0x5400
%define RAH0 0x5404
%define TX_RING ${TX_RING}
%define RX_RING ${RX_RING}
%define TX_BUF ${TX_BUF}
%define RX_BUFS ${RX_BUFS}

%macro PRINT 1
  jmp %%after
%%s: db %1, 0
%%after:
  mov esi, %%s
  call puts
%endmacro

start:
  cli
  cld
  mov esp, 0x90000

  ; BAR0: the register file's address, assigned before the guest started.
  mov dx, 0xcf8
  mov eax, BAR0_CFG
  out dx, eax
  mov dx, 0xcfc
  in eax, dx
  and eax, 0xfffffff0
  mov ebx, eax
  PRINT 'bar0 '
  mov eax, ebx
  call hex32
  PRINT {10}

  ; The MAC: EEPROM words 0-2, low byte first.
  xor ecx, ecx
.eeprom:
  mov eax, ecx
  shl eax, 8
  or eax, 1                       ; START
  mov [ebx + EERD], eax
.eerd_wait:
  mov eax, [ebx + EERD]
  test eax, 0x10                  ; DONE
  jz .eerd_wait
  shr eax, 16
  mov [mac + ecx * 2], ax
  inc ecx
  cmp ecx, 3
  jb .eeprom
  PRINT 'mac '
  mov esi, mac
  call print_mac
  PRINT {10}

  mov eax, [ebx + STATUS]
  test eax, 2                     ; LU
  jz .down
  PRINT {'link up', 10}
  jmp .link_done
.down:
  PRINT {'link down', 10}
.link_done:

  ; Receive address 0 = our MAC, valid.
  mov eax, [mac]
  mov [ebx + RAL0], eax
  movzx eax, word [mac + 4]
  or eax, 0x80000000
  mov [ebx + RAH0], eax

  ; RX ring: 8 descriptors, each with a 2 KiB buffer; 7 handed to the card.
  mov edi, RX_RING
  mov eax, RX_BUFS
  mov ecx, 8
.rxd:
  mov [edi], eax
  mov dword [edi + 4], 0
  mov dword [edi + 8], 0
  mov dword [edi + 12], 0
  add eax, 2048
  add edi, 16
  loop .rxd
  mov dword [ebx + RDBAL], RX_RING
  mov dword [ebx + RDBAH], 0
  mov dword [ebx + RDLEN], 128
  mov dword [ebx + RDH], 0
  mov dword [ebx + RDT], 7
  mov dword [ebx + RCTL], (1 << 1) | (1 << 15) | (1 << 26)   ; EN | BAM | SECRC

  ; TX ring: 8 empty descriptors.
  mov edi, TX_RING
  xor eax, eax
  mov ecx, 32
  rep stosd
  mov dword [ebx + TDBAL], TX_RING
  mov dword [ebx + TDBAH], 0
  mov dword [ebx + TDLEN], 128
  mov dword [ebx + TDH], 0
  mov dword [ebx + TDT], 0
  mov dword [ebx + TCTL], (1 << 1) | (1 << 3)                 ; EN | PSP

  ; The ARP request: who-has 10.0.2.2 tell 10.0.2.15, from our MAC.
  mov edi, TX_BUF
  mov eax, 0xffffffff
  stosd
  stosw                           ; destination: broadcast
  mov esi, mac
  movsd
  movsw                           ; source: us
  mov esi, arp_head
  mov ecx, 10
  rep movsb                       ; ethertype, htype, ptype, hlen, plen, opcode 1 (request)
  mov esi, mac
  movsd
  movsw                           ; sender MAC
  mov esi, arp_ips
  mov ecx, 14
  rep movsb                       ; sender IP, target MAC (zero), target IP
  mov ecx, 60 - 42
  xor al, al
  rep stosb                       ; pad to the minimum frame
  mov dword [TX_RING], TX_BUF
  mov dword [TX_RING + 4], 0
  mov dword [TX_RING + 8], 60 | ((1 | 2 | 8) << 24)           ; EOP | IFCS | RS
  mov dword [TX_RING + 12], 0
  mov dword [ebx + TDT], 1
.tx_wait:
  test byte [TX_RING + 12], 1     ; DD
  jz .tx_wait
  PRINT {'arp request sent', 10}

  ; Walk the RX ring until an ARP reply turns up or the polls run out.
  mov edi, RX_RING
  mov ecx, ${RX_POLLS}
.rx_poll:
  mov eax, [ebx + STATUS]         ; an exit per poll: frames arrive from the host's event loop
  test byte [edi + 12], 1         ; DD
  jnz .rx_frame
  loop .rx_poll
  PRINT {'no arp reply', 10}
  jmp .halt
.rx_frame:
  mov esi, [edi]
  cmp word [esi + 12], 0x0608     ; ARP
  jne .rx_next
  cmp word [esi + 20], 0x0200     ; reply
  jne .rx_next
  mov ebp, [edi]
  PRINT 'arp reply: '
  movzx eax, byte [ebp + 28]
  call dec8
  PRINT '.'
  movzx eax, byte [ebp + 29]
  call dec8
  PRINT '.'
  movzx eax, byte [ebp + 30]
  call dec8
  PRINT '.'
  movzx eax, byte [ebp + 31]
  call dec8
  PRINT ' is-at '
  lea esi, [ebp + 22]
  call print_mac
  PRINT {10}
  jmp .halt
.rx_next:
  mov byte [edi + 12], 0
  add edi, 16
  cmp edi, RX_RING + 128
  jb .rx_poll
  mov edi, RX_RING
  jmp .rx_poll

.halt:
  cli
  hlt
  jmp .halt

; Print the NUL-terminated string at ESI.
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

; Print AL on COM1 once the transmitter holds nothing.
putc:
  push edx
  push eax
  mov dx, 0x3fd
.wait:
  in al, dx
  test al, 0x20
  jz .wait
  pop eax
  mov dx, 0x3f8
  out dx, al
  pop edx
  ret

; Print AL as two hex digits.
hex8:
  push eax
  shr al, 4
  call hexdigit
  pop eax
  push eax
  call hexdigit
  pop eax
  ret
hexdigit:
  and al, 0x0f
  add al, '0'
  cmp al, '9'
  jbe .out
  add al, 'a' - '0' - 10
.out:
  jmp putc

; Print EAX as eight hex digits.
hex32:
  push ecx
  mov ecx, 4
.byte:
  rol eax, 8
  call hex8
  loop .byte
  pop ecx
  ret

; Print the 6-byte MAC at ESI as aa:bb:cc:dd:ee:ff.
print_mac:
  push ecx
  push esi
  mov ecx, 6
.byte:
  lodsb
  call hex8
  cmp ecx, 1
  je .last
  mov al, ':'
  call putc
.last:
  loop .byte
  pop esi
  pop ecx
  ret

; Print EAX (0-255) in decimal.
dec8:
  push eax
  push edx
  push ecx
  xor ecx, ecx
.div:
  mov dl, 10
  div dl                          ; AL = quotient, AH = remainder
  movzx edx, ah
  push edx
  inc ecx
  movzx eax, al
  test eax, eax
  jnz .div
.emit:
  pop eax
  add al, '0'
  call putc
  loop .emit
  pop ecx
  pop edx
  pop eax
  ret

arp_head: db 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01
arp_ips: db 10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 10, 0, 2, 2
mac: times 6 db 0
`;
