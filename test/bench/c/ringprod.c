/* The reader benchmark's producer: makes getppid() syscalls in a tight loop, each of which fires
 * test/bench/bpf/ringgen.bpf.c (filtered to this process) and emits a burst of ring records.
 * Commands on stdin, one JSON line per answer on stdout:
 *   calls N   exactly N syscalls (fills a ring with a known number of records)
 *   run MS    as many syscalls as fit in MS milliseconds (live runs)
 *   quit
 * Each answer gives the syscalls made and the wall and CPU time they took. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "bench.h"

/* Syscalls between two looks at the clock in `run` (a vDSO call, but not free). */
#define CLOCK_CHECK_EVERY 256

static void answer(uint64_t calls, uint64_t wall, uint64_t cpu)
{
  printf("{\"calls\":%llu,\"wall_ns\":%llu,\"cpu_ns\":%llu}\n", (unsigned long long)calls, (unsigned long long)wall,
         (unsigned long long)cpu);
  fflush(stdout);
}

int main(void)
{
  char line[128];
  printf("{\"ready\":true,\"pid\":%d}\n", getpid());
  fflush(stdout);
  while (read_command(line, sizeof(line))) {
    unsigned long long arg = 0;
    uint64_t w0 = wall_ns(), c0 = cpu_ns(), calls = 0;
    if (sscanf(line, "calls %llu", &arg) == 1) {
      for (; calls < arg; calls++)
        syscall(SYS_getppid);
    } else if (sscanf(line, "run %llu", &arg) == 1) {
      uint64_t deadline = w0 + arg * 1000000ull;
      do {
        for (int i = 0; i < CLOCK_CHECK_EVERY; i++)
          syscall(SYS_getppid);
        calls += CLOCK_CHECK_EVERY;
      } while (wall_ns() < deadline);
    } else if (strcmp(line, "quit") == 0) {
      return 0;
    } else {
      fprintf(stderr, "ringprod: unknown command '%s'\n", line);
      return 2;
    }
    answer(calls, wall_ns() - w0, cpu_ns() - c0);
  }
  return 0;
}
