/*
 * Native side of the 64-bit differential tests: runs every case of one assembled batch
 * (flat binary at CODE, one case per CASE_STRIDE bytes) in this x86-64 Linux process.
 * Each case sets all registers itself and ends with INT3; faults arrive as signals on an
 * alternate stack. After each case the registers, RIP, RFLAGS, trap number, error code,
 * CR2, MXCSR and XMM0-15 (from the signal frame) and the data and stack regions are
 * written to stdout.
 *
 *   harness64 <batch.bin> <cases>
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE 0x10000000UL
#define CASE_STRIDE 0x400
#define DATA 0x20000000UL
#define DATA_SIZE 0x2000
#define STACK 0x30000000UL
#define STACK_SIZE 0x1000

struct result {
  uint64_t gpr[16];
  uint64_t rip, rflags, trapno, err, cr2;
  uint32_t sse_valid, mxcsr;
  uint8_t xmm[256]; /* XMM0-15 */
};

static sigjmp_buf back;
static struct result res;

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) res.gpr[i] = (uint64_t)g[order[i]];
  res.rip = (uint64_t)g[REG_RIP];
  res.rflags = (uint64_t)g[REG_EFL];
  res.trapno = (uint64_t)g[REG_TRAPNO];
  res.err = (uint64_t)g[REG_ERR];
  res.cr2 = (uint64_t)g[REG_CR2];
  /* 64-bit signal frames hold an FXSAVE-format image (struct _fpstate_64): MXCSR at +24, XMM0-15 at +160. */
  if (uc->uc_mcontext.fpregs != NULL) {
    const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
    memcpy(&res.mxcsr, fp + 24, 4);
    memcpy(res.xmm, fp + 160, sizeof res.xmm);
    res.sse_valid = 1;
  }
  siglongjmp(back, 1);
}

static void fill(uint8_t *p, size_t n, unsigned seed) {
  uint32_t x = seed * 2654435761u + 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345;
    p[i] = (uint8_t)(x >> 16);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  int cases = atoi(argv[2]);
  size_t codeSize = (size_t)cases * CASE_STRIDE;
  uint8_t *code = mmap((void *)CODE, codeSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *data = mmap((void *)DATA, DATA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *stack = mmap((void *)STACK, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (void *)CODE || data != (void *)DATA || stack != (void *)STACK) return 3;
  if (fread(code, 1, codeSize, f) != codeSize) return 4;
  fclose(f);
  mprotect(code, codeSize, PROT_READ | PROT_EXEC);
  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  int sigs[] = {SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  for (int i = 0; i < cases; i++) {
    fill(data, DATA_SIZE, (unsigned)i);
    fill(stack, STACK_SIZE, (unsigned)i + 77777);
    memset(&res, 0, sizeof res);
    if (sigsetjmp(back, 1) == 0) {
      void (*entry)(void) = (void (*)(void))(CODE + (uint64_t)i * CASE_STRIDE);
      entry();
      return 5; /* a case must end with INT3 */
    }
    fwrite(&res, sizeof res, 1, stdout);
    fwrite(data, 1, DATA_SIZE, stdout);
    fwrite(stack, 1, STACK_SIZE, stdout);
  }
  return 0;
}
