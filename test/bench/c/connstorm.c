/* The workload-cost benchmark's load: TCP connections on loopback as fast as possible for a fixed
 * time — socket, connect, accept, close both ends — in one or more threads, each with its own
 * listener. Run inside a network namespace of the bench's own, so its TIME_WAIT sockets and ports
 * disturb no one. Prints one JSON line: connections made, failures, and the time it ran.
 *   connstorm MS [THREADS] [ADDRESSES]
 * Connections go round-robin to 127.0.0.1 .. 127.0.0.ADDRESSES (default 64), so that TIME_WAIT
 * sockets of one destination do not exhaust the ephemeral ports (loopback allows tw reuse). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench.h"

#define MAX_THREADS 64
#define MAX_ADDRESSES 250
#define LISTEN_BACKLOG 1024
/* Connections between two looks at the clock. */
#define CLOCK_CHECK_EVERY 64

struct worker {
  pthread_t thread;
  int listener;
  struct sockaddr_in dst[MAX_ADDRESSES];
  int addresses;
  uint64_t deadline;
  uint64_t connections;
  uint64_t failures;
};

static int listen_any(uint16_t *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
  socklen_t len = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, LISTEN_BACKLOG) ||
      getsockname(fd, (struct sockaddr *)&a, &len)) {
    perror("connstorm: listener");
    exit(1);
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static int one_connection(struct worker *w, const struct sockaddr_in *dst)
{
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c < 0)
    return -1;
  if (connect(c, (const struct sockaddr *)dst, sizeof(*dst))) {
    close(c);
    return -1;
  }
  int s = accept4(w->listener, NULL, NULL, SOCK_CLOEXEC);
  close(c);
  if (s < 0)
    return -1;
  close(s);
  return 0;
}

static void *run(void *arg)
{
  struct worker *w = arg;
  int next = 0;
  do {
    for (int i = 0; i < CLOCK_CHECK_EVERY; i++) {
      if (one_connection(w, &w->dst[next]) == 0)
        w->connections++;
      else
        w->failures++;
      next = next + 1 == w->addresses ? 0 : next + 1;
    }
  } while (wall_ns() < w->deadline);
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: connstorm MS [THREADS] [ADDRESSES]\n");
    return 2;
  }
  long ms = atol(argv[1]);
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  int addresses = argc > 3 ? atoi(argv[3]) : 64;
  if (ms <= 0 || threads < 1 || threads > MAX_THREADS || addresses < 1 || addresses > MAX_ADDRESSES) {
    fprintf(stderr, "connstorm: bad arguments\n");
    return 2;
  }
  static struct worker workers[MAX_THREADS];
  uint16_t ports[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    struct worker *w = &workers[t];
    w->listener = listen_any(&ports[t]);
    w->addresses = addresses;
    for (int a = 0; a < addresses; a++) {
      w->dst[a].sin_family = AF_INET;
      w->dst[a].sin_port = htons(ports[t]);
      w->dst[a].sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)a); /* 127.0.0.1 + a */
    }
  }
  uint64_t w0 = wall_ns(), c0 = cpu_ns();
  for (int t = 0; t < threads; t++) {
    workers[t].deadline = w0 + (uint64_t)ms * 1000000ull;
    if (pthread_create(&workers[t].thread, NULL, run, &workers[t])) {
      perror("connstorm: pthread_create");
      return 1;
    }
  }
  uint64_t connections = 0, failures = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(workers[t].thread, NULL);
    connections += workers[t].connections;
    failures += workers[t].failures;
  }
  uint64_t wall = wall_ns() - w0, cpu = cpu_ns() - c0;
  printf("{\"pid\":%d,\"connections\":%llu,\"failures\":%llu,\"wall_ns\":%llu,\"cpu_ns\":%llu,\"ports\":[", getpid(),
         (unsigned long long)connections, (unsigned long long)failures, (unsigned long long)wall, (unsigned long long)cpu);
  for (int t = 0; t < threads; t++)
    printf("%s%u", t ? "," : "", ports[t]);
  printf("]}\n");
  return 0;
}
