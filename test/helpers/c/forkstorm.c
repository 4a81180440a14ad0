// forkstorm PORT COUNT: COUNT short-lived processes, one after another, each making one TCP
// connection to 127.0.0.1:PORT and exiting at once — pids are used up and reused the way a busy
// host's cron jobs, health checks and shell pipelines use them. Prints "done COUNT failed N".
// vfork: the child shares the parent's memory until it exits, so a process costs no page-table copy
// (it only makes syscalls and _exits, which is what vfork allows).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int connect_once(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
  close(fd);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PORT COUNT\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  long count = atol(argv[2]), failed = 0;
  for (long i = 0; i < count; i++) {
    pid_t pid = vfork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(connect_once(port));
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
  }
  printf("done %ld failed %ld\n", count, failed);
  return failed ? 1 : 0;
}
