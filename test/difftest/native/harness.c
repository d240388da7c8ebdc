/*
 * Native side of Terrarium's differential CPU tests: runs test cases on the host CPU, in a
 * 32-bit Linux process, exactly as the software CPU runs them, and writes what happened.
 *
 * Built by emulator-core/cpu/difftest/native.ts with `gcc -m32 -static -no-pie`. The
 * layout constants below must match layout.ts.
 *
 * Input (file named by argv[1]), all little-endian:
 *   u32 magic 'DTI1', u32 caseCount, u32 codeSize, u32 ldtCount,
 *   ldtCount x LDT entry (see struct ldt_in; installed with modify_ldt),
 *   code[codeSize] (loaded at CODE_BASE), caseCount x case record (see struct case_in).
 * Output (stdout): caseCount x result record (see write_result), then u32 magic 'DTO1'
 * and u32 flags (bit 0: the LDT entries were installed).
 *
 * Cases may load DS, ES and SS (with LDT selectors) but never FS or GS: FS is set to the
 * flat user data selector at startup and is what the trailer and capture() address memory
 * through until they have restored the others; GS holds glibc's TLS.
 *
 * Each case: the data region is filled from the case's seed (xorshift32, same as
 * prng.ts), the patch is applied, the x87 is reset (FNINIT), MXCSR and XMM0-7 are loaded
 * from the case record, EFLAGS and the eight GPRs are loaded and the code at `entry` runs until it reaches its trailer, `jmp [EXIT_SLOT]`,
 * which lands in capture(). Exceptions arrive as signals on an alternate stack (so the
 * case's stack is never touched) and are mapped to x86 vectors with the trap number the
 * kernel saved (REG_TRAPNO holds the real vector).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/ldt.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define EXIT_SLOT 0x003ff000u
#define CODE_BASE 0x00400000u
#define CODE_MAX 0x00100000u
#define DATA_BASE 0x00500000u
#define DATA_SIZE 0x00002000u
#define RO_PAGE 0x00502000u /* readable, not writable: write faults have P=1 */
#define GUARD_PAGE 0x00503000u /* reserved with no access: faults have P=0 */
#define RO_SEED 0x5eed0001u
#define PATCH_MAX 256u

struct ldt_in {
  uint32_t entry, base, limit, seg_32bit, contents, read_exec_only, limit_in_pages, seg_not_present;
};

struct case_in {
  uint32_t entry;
  uint32_t end;
  uint32_t regs[8]; /* eax ecx edx ebx esp ebp esi edi */
  uint32_t eflags;
  uint32_t mem_seed;
  uint32_t patch_offset;
  uint32_t patch_len;
  uint8_t patch[PATCH_MAX];
  uint32_t mxcsr;
  uint8_t xmm[128]; /* XMM0-7, little-endian */
};

/* Shared with the trampoline (absolute addresses: the binary is not position independent). */
uint32_t dt_in[10]; /* eax..edi, eflags, entry */
uint32_t dt_out[9]; /* eax..edi, eflags */
uint16_t dt_seg_out[6]; /* es cs ss ds fs gs */
uint8_t dt_fpu[108];
uint8_t dt_xmm_in[128] __attribute__((aligned(16)));
uint32_t dt_mxcsr_in;
uint32_t dt_mxcsr_default = 0x1f80;
uint8_t dt_fx[512] __attribute__((aligned(16))); /* FXSAVE at the end of a case */
uint32_t dt_host_esp;
uint32_t dt_jump;
uint16_t dt_host_ds;
uint32_t dt_host_cs;

void dt_run_case(void);
void dt_capture(void);

__asm__(
    ".intel_syntax noprefix\n"
    ".text\n"
    ".globl dt_run_case\n"
    "dt_run_case:\n"
    "  push ebp\n"
    "  push ebx\n"
    "  push esi\n"
    "  push edi\n"
    "  mov dword ptr [dt_host_esp], esp\n"
    /* Zero all eight physical x87 registers, then empty them: MMX reads see zeros, as on
       Terrarium after a reset, not whatever the previous case left behind. */
    "  fninit\n"
    "  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n"
    "  fninit\n"
    "  ldmxcsr dword ptr [dt_mxcsr_in]\n"
    "  movdqu xmm0, xmmword ptr [dt_xmm_in+0]\n"
    "  movdqu xmm1, xmmword ptr [dt_xmm_in+16]\n"
    "  movdqu xmm2, xmmword ptr [dt_xmm_in+32]\n"
    "  movdqu xmm3, xmmword ptr [dt_xmm_in+48]\n"
    "  movdqu xmm4, xmmword ptr [dt_xmm_in+64]\n"
    "  movdqu xmm5, xmmword ptr [dt_xmm_in+80]\n"
    "  movdqu xmm6, xmmword ptr [dt_xmm_in+96]\n"
    "  movdqu xmm7, xmmword ptr [dt_xmm_in+112]\n"
    "  mov eax, dword ptr [dt_in+36]\n"
    "  mov dword ptr [dt_jump], eax\n"
    "  push dword ptr [dt_in+32]\n"
    "  popfd\n"
    "  mov eax, dword ptr [dt_in+0]\n"
    "  mov ecx, dword ptr [dt_in+4]\n"
    "  mov edx, dword ptr [dt_in+8]\n"
    "  mov ebx, dword ptr [dt_in+12]\n"
    "  mov esp, dword ptr [dt_in+16]\n"
    "  mov ebp, dword ptr [dt_in+20]\n"
    "  mov esi, dword ptr [dt_in+24]\n"
    "  mov edi, dword ptr [dt_in+28]\n"
    "  jmp dword ptr [dt_jump]\n"
    ".globl dt_capture\n"
    "dt_capture:\n"
    /* Only FS is known to be flat here: the case may have changed DS, ES and SS. */
    "  mov dword ptr fs:[dt_out+0], eax\n"
    "  mov dword ptr fs:[dt_out+4], ecx\n"
    "  mov dword ptr fs:[dt_out+8], edx\n"
    "  mov dword ptr fs:[dt_out+12], ebx\n"
    "  mov dword ptr fs:[dt_out+16], esp\n"
    "  mov dword ptr fs:[dt_out+20], ebp\n"
    "  mov dword ptr fs:[dt_out+24], esi\n"
    "  mov dword ptr fs:[dt_out+28], edi\n"
    "  mov word ptr fs:[dt_seg_out+0], es\n"
    "  mov word ptr fs:[dt_seg_out+2], cs\n"
    "  mov word ptr fs:[dt_seg_out+4], ss\n"
    "  mov word ptr fs:[dt_seg_out+6], ds\n"
    "  mov word ptr fs:[dt_seg_out+8], fs\n"
    "  mov word ptr fs:[dt_seg_out+10], gs\n"
    "  mov ax, word ptr fs:[dt_host_ds]\n"
    "  mov ss, ax\n"
    "  mov esp, dword ptr fs:[dt_host_esp]\n"
    "  mov ds, ax\n"
    "  mov es, ax\n"
    /* Back to the flat code segment if the case ended in another one (a far JMP/CALL). */
    "  push dword ptr [dt_host_cs]\n"
    "  push OFFSET dt_capture_flat\n"
    "  retf\n"
    "dt_capture_flat:\n"
    "  pushfd\n"
    "  pop dword ptr [dt_out+32]\n"
    "  fxsave [dt_fx]\n" /* XMM0-7 and MXCSR (the x87 part is taken by FNSAVE) */
    "  fnsave [dt_fpu]\n"
    "  ldmxcsr dword ptr [dt_mxcsr_default]\n"
    "  push 0x202\n" /* clean EFLAGS for C code: DF, AC, NT clear */
    "  popfd\n"
    "  fninit\n"
    "  pop edi\n"
    "  pop esi\n"
    "  pop ebx\n"
    "  pop ebp\n"
    "  ret\n"
    ".att_syntax prefix\n");

static sigjmp_buf fault_jmp;
static volatile uint32_t fault_regs[9];
static volatile uint16_t fault_segs[6];
static volatile uint32_t fault_vector, fault_error, fault_eip, fault_cr2;
static uint8_t fault_fpu[108];
static uint8_t fault_xmm[128];
static uint32_t fault_mxcsr, fault_sse_valid;

static void on_fault(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)info;
  ucontext_t *uc = (ucontext_t *)ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  fault_regs[0] = g[REG_EAX];
  fault_regs[1] = g[REG_ECX];
  fault_regs[2] = g[REG_EDX];
  fault_regs[3] = g[REG_EBX];
  fault_regs[4] = g[REG_ESP];
  fault_regs[5] = g[REG_EBP];
  fault_regs[6] = g[REG_ESI];
  fault_regs[7] = g[REG_EDI];
  fault_regs[8] = g[REG_EFL];
  fault_vector = g[REG_TRAPNO];
  fault_error = g[REG_ERR];
  fault_eip = g[REG_EIP];
  fault_cr2 = uc->uc_mcontext.cr2;
  fault_segs[0] = g[REG_ES];
  fault_segs[1] = g[REG_CS];
  fault_segs[2] = g[REG_SS];
  fault_segs[3] = g[REG_DS];
  fault_segs[4] = g[REG_FS];
  fault_segs[5] = g[REG_GS];
  if (uc->uc_mcontext.fpregs != NULL) memcpy(fault_fpu, uc->uc_mcontext.fpregs, sizeof fault_fpu);
  else memset(fault_fpu, 0, sizeof fault_fpu);
  /*
   * i386 signal frames (uapi asm/sigcontext.h, struct _fpstate_32): the 112-byte FNSAVE part
   * ends with `status` and `magic`; magic 0 means an FXSAVE-format image follows at +112
   * (MXCSR at +24, XMM0-7 at +160 within it).
   */
  fault_sse_valid = 0;
  if (uc->uc_mcontext.fpregs != NULL) {
    const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
    uint16_t magic;
    memcpy(&magic, fp + 110, 2);
    if (magic == 0) {
      memcpy((void *)&fault_mxcsr, fp + 112 + 24, 4);
      memcpy(fault_xmm, fp + 112 + 160, sizeof fault_xmm);
      fault_sse_valid = 1;
    }
  }
  siglongjmp(fault_jmp, 1);
}

static void *map_fixed(uint32_t addr, uint32_t size, int prot) {
  void *p = mmap((void *)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)addr) {
    fprintf(stderr, "harness: cannot map 0x%08x (+0x%x)\n", addr, size);
    exit(2);
  }
  return p;
}

static void die(const char *msg) {
  fprintf(stderr, "harness: %s\n", msg);
  exit(2);
}

static uint32_t rd32(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }

/* The same fill as prng.ts fillData(): xorshift32 words, little-endian. */
static void fill_data(uint8_t *data, uint32_t seed, uint32_t size) {
  uint32_t x = seed != 0 ? seed : 0x9e3779b9u;
  for (uint32_t i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    memcpy(data + i, &x, 4);
  }
}

static uint8_t reference[DATA_SIZE];

static void emit(const void *p, size_t n) {
  if (fwrite(p, 1, n, stdout) != n) die("write failed");
}

/*
 * Result record: u32 kind (0 reached the end, 1 exception), u32 vector, u32 error code,
 * u32 eip, u32 regs[8], u32 eflags, u32 cr2 (page faults), u16 segs[6] (ES CS SS DS FS
 * GS), u8 fpu[108] (FNSAVE image), u32 sseValid, u32 mxcsr, u8 xmm[128] (XMM0-7), u32
 * nDiffs, then nDiffs x (u16 offset, u8 value) for every data byte that differs from its
 * initial value.
 */
static void write_result(uint32_t kind, uint32_t vector, uint32_t error, uint32_t eip, const volatile uint32_t *regs,
                         uint32_t cr2, const volatile uint16_t *segs, const uint8_t *fpu, uint32_t sse_valid, uint32_t mxcsr,
                         const uint8_t *xmm, const uint8_t *data) {
  uint32_t head[14] = {kind, vector, error, eip};
  for (int i = 0; i < 9; i++) head[4 + i] = regs[i];
  head[13] = cr2;
  emit(head, sizeof head);
  uint16_t sg[6];
  for (int i = 0; i < 6; i++) sg[i] = segs[i];
  emit(sg, sizeof sg);
  emit(fpu, 108);
  uint32_t sse[2] = {sse_valid, mxcsr};
  emit(sse, sizeof sse);
  emit(xmm, 128);
  uint32_t n = 0;
  for (uint32_t i = 0; i < DATA_SIZE; i++) n += data[i] != reference[i];
  emit(&n, 4);
  for (uint32_t i = 0; i < DATA_SIZE; i++) {
    if (data[i] != reference[i]) {
      uint8_t rec[3] = {(uint8_t)i, (uint8_t)(i >> 8), data[i]};
      emit(rec, 3);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) die("usage: harness INPUT");
  FILE *f = fopen(argv[1], "rb");
  if (f == NULL) die("cannot open input");
  uint8_t hdr[16];
  if (fread(hdr, 1, 16, f) != 16 || rd32(hdr) != 0x31495444u) die("bad input header");
  uint32_t count = rd32(hdr + 4), code_size = rd32(hdr + 8), ldt_count = rd32(hdr + 12);
  if (code_size > CODE_MAX) die("code too large");
  uint32_t flags = 1;
  for (uint32_t i = 0; i < ldt_count; i++) {
    struct ldt_in e;
    if (fread(&e, sizeof e, 1, f) != 1) die("short LDT entry");
    struct user_desc d;
    memset(&d, 0, sizeof d);
    d.entry_number = e.entry;
    d.base_addr = e.base;
    d.limit = e.limit;
    d.seg_32bit = e.seg_32bit;
    d.contents = e.contents;
    d.read_exec_only = e.read_exec_only;
    d.limit_in_pages = e.limit_in_pages;
    d.seg_not_present = e.seg_not_present;
    if (syscall(SYS_modify_ldt, 1, &d, sizeof d) != 0) flags &= ~1u;
  }
  /* FS becomes the flat data segment the trailer and capture() rely on. */
  __asm__ volatile("mov %%ds, %0\n\tmov %0, %%fs" : "=r"(dt_host_ds));
  __asm__ volatile("mov %%cs, %0" : "=r"(dt_host_cs));

  uint32_t *exit_slot = map_fixed(EXIT_SLOT, 0x1000, PROT_READ | PROT_WRITE);
  *exit_slot = (uint32_t)&dt_capture;
  uint8_t *code = map_fixed(CODE_BASE, CODE_MAX, PROT_READ | PROT_WRITE | PROT_EXEC);
  uint8_t *data = map_fixed(DATA_BASE, DATA_SIZE, PROT_READ | PROT_WRITE);
  uint8_t *ro = map_fixed(RO_PAGE, 0x1000, PROT_READ | PROT_WRITE);
  fill_data(ro, RO_SEED, 0x1000);
  if (mprotect(ro, 0x1000, PROT_READ) != 0) die("mprotect");
  map_fixed(GUARD_PAGE, 0x1000, PROT_NONE);
  if (fread(code, 1, code_size, f) != code_size) die("short code");

  static uint8_t altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) die("sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGFPE, SIGILL, SIGBUS, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) != 0) die("sigaction");

  static char outbuf[1 << 20];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  alarm(60); /* a runaway case must not hang the test run */

  struct case_in c;
  for (uint32_t n = 0; n < count; n++) {
    if (fread(&c, sizeof c, 1, f) != 1) die("short case record");
    if (c.patch_len > PATCH_MAX || c.patch_offset + c.patch_len > DATA_SIZE) die("bad patch");
    fill_data(reference, c.mem_seed, DATA_SIZE);
    memcpy(reference + c.patch_offset, c.patch, c.patch_len);
    memcpy(data, reference, DATA_SIZE);
    memcpy(dt_in, c.regs, 32);
    dt_in[8] = c.eflags;
    dt_in[9] = c.entry;
    dt_mxcsr_in = c.mxcsr;
    memcpy(dt_xmm_in, c.xmm, sizeof dt_xmm_in);
    if (sigsetjmp(fault_jmp, 1) == 0) {
      dt_run_case();
      uint32_t mxcsr;
      memcpy(&mxcsr, dt_fx + 24, 4);
      write_result(0, 0, 0, c.end, dt_out, 0, dt_seg_out, dt_fpu, 1, mxcsr, dt_fx + 160, data);
    } else {
      /* The kernel reset DS, ES and SS for the handler; FS may need it. */
      __asm__ volatile("fninit\n\tldmxcsr %1\n\tmov %0, %%fs" : : "r"(dt_host_ds), "m"(dt_mxcsr_default));
      write_result(1, fault_vector, fault_error, fault_eip, fault_regs, fault_vector == 14 ? fault_cr2 : 0, fault_segs, fault_fpu,
                   fault_sse_valid, fault_mxcsr, fault_xmm, data);
    }
  }
  uint32_t magic = 0x314f5444u;
  emit(&magic, 4);
  emit(&flags, 4);
  fflush(stdout);
  return 0;
}
