/*
 * Lane-level oracle for the SSE floating-point difftest (sse-float.test.ts): runs one
 * register-form instruction per input line on the host CPU and prints what it left.
 *
 * Input lines (hex, space separated): code bytes (the instruction alone), XMM0, XMM1 (32
 * digits each, most significant first), RCX, RAX, MXCSR. The instruction runs with those
 * registers from an executable page followed by RET; SIGFPE (#XM) is caught and reported
 * with the MXCSR the kernel saved at the fault.
 * Output lines: XMM0 RAX EFLAGS MXCSR TRAP (TRAP 1 = #XM, registers then as before).
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

struct io {
  uint8_t x0[16];   /* 0 */
  uint8_t x1[16];   /* 16 */
  uint64_t rcx;     /* 32 */
  uint64_t rax;     /* 40 */
  uint64_t flags;   /* 48 */
  uint32_t mxcsr;   /* 56 */
};

static sigjmp_buf jb;
static volatile uint32_t trap_mxcsr;

static void on_fpe(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  trap_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
  siglongjmp(jb, 1);
}

__attribute__((noinline)) static void run(struct io *p, void *code) {
  __asm__ volatile(
      "push %%rbx\n"
      "mov %0, %%rbx\n"
      "ldmxcsr 56(%%rbx)\n"
      "movups 0(%%rbx), %%xmm0\n"
      "movups 16(%%rbx), %%xmm1\n"
      "mov 32(%%rbx), %%rcx\n"
      "mov 40(%%rbx), %%rax\n"
      "push $0x202\n popfq\n"
      "call *%1\n"
      "pushfq\n pop 48(%%rbx)\n"
      "movups %%xmm0, 0(%%rbx)\n"
      "mov %%rax, 40(%%rbx)\n"
      "stmxcsr 56(%%rbx)\n"
      "pop %%rbx\n"
      :
      : "r"(p), "r"(code)
      : "rax", "rcx", "rdx", "xmm0", "xmm1", "memory", "cc");
}

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static void parse_reg(const char *s, uint8_t *out) {
  for (int i = 0; i < 16; i++) out[15 - i] = hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fpe;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGFPE, &sa, 0);
  uint8_t *page = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 2;
  static char line[512];
  char code[64], x0[40], x1[40];
  unsigned long long rcx, rax;
  unsigned mx;
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "%63s %39s %39s %llx %llx %x", code, x0, x1, &rcx, &rax, &mx) != 6) return 3;
    size_t n = strlen(code) / 2;
    for (size_t i = 0; i < n; i++) page[i] = hexval(code[2 * i]) << 4 | hexval(code[2 * i + 1]);
    page[n] = 0xc3;
    struct io io;
    memset(&io, 0, sizeof io);
    parse_reg(x0, io.x0);
    parse_reg(x1, io.x1);
    io.rcx = rcx;
    io.rax = rax;
    io.mxcsr = mx;
    struct io keep = io;
    int trapped = 0;
    if (sigsetjmp(jb, 1) == 0) {
      run(&io, page);
    } else {
      trapped = 1;
      io = keep;
      io.mxcsr = trap_mxcsr;
      io.flags = 0x202;
    }
    for (int i = 15; i >= 0; i--) printf("%02x", io.x0[i]);
    printf(" %llx %llx %x %d\n", (unsigned long long)io.rax, (unsigned long long)(io.flags & 0x8d5), io.mxcsr, trapped);
  }
  return 0;
}
