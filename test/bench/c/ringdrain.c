/* The native ceiling for the reader benchmark: libbpf's own ring-buffer consumer
 * (ring_buffer__consume) with a callback that only counts, on the ring map inherited as fd 3 —
 * the same ring, record size and producer the agent's JS reader is measured with.
 * Commands on stdin, one JSON line per answer on stdout:
 *   drain   consume everything in the ring now (a pre-filled ring), then answer
 *   live    answer {"live":true}, then consume as records arrive (epoll on the ring) until `stop`
 *   stop    (during live) consume what is left and answer
 *   quit
 * Answers give the records consumed and the wall and CPU time it took. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "bench.h"

/* The ring map's fd, passed by the bench as the child's fourth stdio slot. */
#define RING_FD 3
/* epoll_wait timeout while live: long enough to sleep, short enough to notice nothing. */
#define LIVE_WAIT_MS 100

static int count_record(void *ctx, void *data, size_t size)
{
  (void)data;
  (void)size;
  (*(uint64_t *)ctx)++;
  return 0;
}

static uint64_t consume_all(struct ring_buffer *rb)
{
  uint64_t total = 0;
  int n;
  while ((n = ring_buffer__consume(rb)) > 0)
    total += (uint64_t)n;
  if (n < 0) {
    fprintf(stderr, "ringdrain: ring_buffer__consume: %d\n", n);
    exit(1);
  }
  return total;
}

static void answer(uint64_t records, uint64_t wall, uint64_t cpu)
{
  printf("{\"records\":%llu,\"wall_ns\":%llu,\"cpu_ns\":%llu}\n", (unsigned long long)records,
         (unsigned long long)wall, (unsigned long long)cpu);
  fflush(stdout);
}

/* Consume on readiness of the ring until stdin says `stop`; stdin is line-buffered by the bench. */
static void live(struct ring_buffer *rb, uint64_t *count)
{
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ring = {.events = EPOLLIN, .data.fd = RING_FD};
  struct epoll_event in = {.events = EPOLLIN, .data.fd = STDIN_FILENO};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, RING_FD, &ring) || epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &in)) {
    perror("ringdrain: epoll");
    exit(1);
  }
  printf("{\"live\":true}\n");
  fflush(stdout);
  uint64_t w0 = wall_ns(), c0 = cpu_ns(), before = *count;
  for (;;) {
    struct epoll_event ev[2];
    int n = epoll_wait(ep, ev, 2, LIVE_WAIT_MS);
    if (n < 0 && errno != EINTR) {
      perror("ringdrain: epoll_wait");
      exit(1);
    }
    int stop = 0;
    for (int i = 0; i < n; i++) {
      if (ev[i].data.fd == RING_FD)
        consume_all(rb);
      else
        stop = 1;
    }
    if (stop)
      break;
  }
  char line[64];
  if (!read_command(line, sizeof(line)) || strcmp(line, "stop") != 0) {
    fprintf(stderr, "ringdrain: expected stop, got '%s'\n", line);
    exit(2);
  }
  consume_all(rb);
  answer(*count - before, wall_ns() - w0, cpu_ns() - c0);
  close(ep);
}

int main(void)
{
  uint64_t count = 0;
  struct ring_buffer *rb = ring_buffer__new(RING_FD, count_record, &count, NULL);
  if (!rb) {
    fprintf(stderr, "ringdrain: ring_buffer__new on fd %d: %d\n", RING_FD, -errno);
    return 1;
  }
  setvbuf(stdin, NULL, _IOLBF, 0);
  printf("{\"ready\":true,\"pid\":%d}\n", getpid());
  fflush(stdout);
  char line[64];
  while (read_command(line, sizeof(line))) {
    if (strcmp(line, "drain") == 0) {
      uint64_t w0 = wall_ns(), c0 = cpu_ns();
      uint64_t n = consume_all(rb);
      answer(n, wall_ns() - w0, cpu_ns() - c0);
    } else if (strcmp(line, "live") == 0) {
      live(rb, &count);
    } else if (strcmp(line, "quit") == 0) {
      break;
    } else {
      fprintf(stderr, "ringdrain: unknown command '%s'\n", line);
      return 2;
    }
  }
  ring_buffer__free(rb);
  return 0;
}
