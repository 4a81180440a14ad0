/* Small helpers shared by the benchmark's C programs: clocks and line-oriented stdin commands. */
#ifndef NETWATCH_BENCH_H
#define NETWATCH_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_ns(clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall time on a clock no one can set, and CPU time of the whole process (all threads). */
static inline uint64_t wall_ns(void) { return bench_ns(CLOCK_MONOTONIC); }
static inline uint64_t cpu_ns(void) { return bench_ns(CLOCK_PROCESS_CPUTIME_ID); }

/* Reads one command line from stdin without its newline; 0 at end of input. */
static inline int read_command(char *buf, size_t len)
{
  if (!fgets(buf, (int)len, stdin))
    return 0;
  buf[strcspn(buf, "\r\n")] = '\0';
  return 1;
}

#endif
