/* The workload-cost benchmark's load: TCP connections on loopback as fast as possible for a fixed
 * time — socket, connect, accept, close both ends — in one or more threads, each with its own
 * listener. Run inside a network namespace of the bench's own, so its TIME_WAIT sockets and ports
 * disturb no one. Prints one JSON line: connections made, failures, and the time it ran.
 *   connstorm MS [THREADS] [ADDRESSES] [fin|rst] [4|6]
 *
 * Close: `fin` (the default) closes the client first with a FIN, as most programs do; `rst` sets
 * SO_LINGER {on, 0 s} on the client before it closes, so the close sends an RST, the client skips
 * FIN_WAIT/TIME_WAIT and the server's accepted socket is reset (as a client that aborts does).
 *
 * Destinations: each thread's connections go round-robin to ADDRESSES (default 64) addresses on
 * the thread's listener port. IPv4: 127.0.0.1 .. 127.0.0.ADDRESSES, all of 127/8 being loopback.
 * IPv6 has one loopback address, ::1, so `6` connects to fd00:6e77::1 .. fd00:6e77::ADDRESSES
 * (hex), which the caller must first add to the namespace's lo (workload.ts does:
 * `ip -6 addr add fd00:6e77::N/128 dev lo nodad`); connstorm checks they are there before it starts.
 * Why several destinations and not ::1 alone: the ephemeral port search of connect() and the
 * kernel's hash chains then see the same spread of 4-tuples in both families, so the IPv4 and
 * IPv6 storms stay alike; and a storm run where TIME_WAIT sockets are kept cannot exhaust the
 * ports of one destination (IPv6's tw reuse for loopback covers only ::1, not these addresses).
 * The bench's namespace keeps no TIME_WAIT at all (tcp_max_tw_buckets 0, which both families
 * share), so there a closed connection's port is free at once, and RST closes never make one. */
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
/* The IPv6 destinations' prefix, fd00:6e77::/64 ("nw"): the same constant is in workload.ts. */
#define V6_PREFIX_HI 0xfd006e77u

enum close_mode { CLOSE_FIN, CLOSE_RST };

union addr {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
};

struct worker {
  pthread_t thread;
  int listener;
  int family;
  enum close_mode close_mode;
  union addr dst[MAX_ADDRESSES];
  socklen_t dst_len;
  int addresses;
  uint64_t deadline;
  uint64_t connections;
  uint64_t failures;
};

/* An address of the family with the given port: the wildcard when `index` < 0, else destination `index`. */
static socklen_t make_addr(union addr *a, int family, int index, uint16_t port)
{
  memset(a, 0, sizeof(*a));
  if (family == AF_INET) {
    a->in4.sin_family = AF_INET;
    a->in4.sin_port = htons(port);
    a->in4.sin_addr.s_addr = index < 0 ? htonl(INADDR_ANY) : htonl(INADDR_LOOPBACK + (uint32_t)index); /* 127.0.0.1 + index */
    return sizeof(a->in4);
  }
  a->in6.sin6_family = AF_INET6;
  a->in6.sin6_port = htons(port);
  if (index >= 0) {
    uint32_t words[4] = {htonl(V6_PREFIX_HI), 0, 0, htonl((uint32_t)index + 1)}; /* fd00:6e77::1 + index */
    memcpy(&a->in6.sin6_addr, words, sizeof(words));
  } /* else in6addr_any: all zeroes */
  return sizeof(a->in6);
}

static int listen_any(int family, uint16_t *port)
{
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  union addr a;
  socklen_t len = make_addr(&a, family, -1, 0);
  /* An IPv6 listener takes IPv6 connections only, as the storm makes no others. */
  if (fd < 0 || (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) || bind(fd, &a.sa, len) ||
      listen(fd, LISTEN_BACKLOG) || getsockname(fd, &a.sa, &len)) {
    perror("connstorm: listener");
    exit(1);
  }
  *port = ntohs(family == AF_INET ? a.in4.sin_port : a.in6.sin6_port);
  return fd;
}

/* Fails unless every destination is an address of this namespace: bind() needs a local address
 * and makes no connection, so the check is invisible to connection tracers. */
static void check_destinations(int family, int addresses)
{
  for (int i = 0; i < addresses; i++) {
    union addr a;
    socklen_t len = make_addr(&a, family, i, 0);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, &a.sa, len)) {
      int err = errno;
      char text[INET6_ADDRSTRLEN] = "?";
      inet_ntop(family, family == AF_INET ? (void *)&a.in4.sin_addr : (void *)&a.in6.sin6_addr, text, sizeof(text));
      fprintf(stderr, "connstorm: destination %s is not an address here (%s)%s\n", text, strerror(err),
              family == AF_INET6 ? ": add fd00:6e77::1 .. ::ADDRESSES to lo (ip -6 addr add fd00:6e77::1/128 dev lo nodad, ...)" : "");
      exit(1);
    }
    close(fd);
  }
}

static int one_connection(struct worker *w, const union addr *dst)
{
  int c = socket(w->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c < 0)
    return -1;
  if (connect(c, &dst->sa, w->dst_len)) {
    close(c);
    return -1;
  }
  int s = accept4(w->listener, NULL, NULL, SOCK_CLOEXEC);
  if (w->close_mode == CLOSE_RST) {
    /* Linger on with a zero timeout: close() aborts the connection with an RST. */
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  }
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

__attribute__((noreturn)) static void usage_error(const char *what)
{
  fprintf(stderr, "connstorm: %s\nusage: connstorm MS [THREADS] [ADDRESSES] [fin|rst] [4|6]\n", what);
  exit(2);
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 6)
    usage_error("wrong number of arguments");
  long ms = atol(argv[1]);
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  int addresses = argc > 3 ? atoi(argv[3]) : 64;
  const char *close_arg = argc > 4 ? argv[4] : "fin";
  const char *family_arg = argc > 5 ? argv[5] : "4";
  if (ms <= 0 || threads < 1 || threads > MAX_THREADS || addresses < 1 || addresses > MAX_ADDRESSES)
    usage_error("bad MS, THREADS or ADDRESSES");
  enum close_mode close_mode;
  if (strcmp(close_arg, "fin") == 0)
    close_mode = CLOSE_FIN;
  else if (strcmp(close_arg, "rst") == 0)
    close_mode = CLOSE_RST;
  else
    usage_error("the close mode is fin or rst");
  int family;
  if (strcmp(family_arg, "4") == 0)
    family = AF_INET;
  else if (strcmp(family_arg, "6") == 0)
    family = AF_INET6;
  else
    usage_error("the family is 4 or 6");
  check_destinations(family, addresses);
  static struct worker workers[MAX_THREADS];
  uint16_t ports[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    struct worker *w = &workers[t];
    w->listener = listen_any(family, &ports[t]);
    w->family = family;
    w->close_mode = close_mode;
    w->addresses = addresses;
    for (int a = 0; a < addresses; a++)
      w->dst_len = make_addr(&w->dst[a], family, a, ports[t]);
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
