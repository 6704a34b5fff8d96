/*
 * rex-sandbox: puts one action's command into the worker's sandbox with a single short-lived
 * process, where a chain of sh, setpriv, unshare and setpriv took four.
 *
 *   rex-sandbox [--cgroup DIR]... [--nofile N] [--nproc N] [--pdeathsig] [--namespaces]
 *               [--net | --netns PATH --netns-inode N] [--uid UID --gid GID] -- PROGRAM [ARG]...
 *   rex-sandbox --hold-netns
 *   rex-sandbox --serve
 *
 * --hold-netns makes a network namespace (only a loopback, down) and keeps it until its stdin
 * closes: an executor's actions, which run one after another, join it with --netns
 * /proc/<holder>/ns/net instead of each making and tearing down its own (the teardown alone
 * costs the kernel most of a millisecond). --netns-inode guards against a reused pid: the
 * namespace joined must be the one the worker saw made.
 *
 * --serve is the fork server the worker runs once: it reads requests on stdin and, for each,
 * forks a child that takes the action's stdio files, working directory and environment and then
 * does what the flags above say; it answers on stdout when the child started and how it ended.
 * A fork of this small process costs a fraction of a spawn from the worker's JVM (which execs a
 * helper program of Java's own first) and saves the exec of this helper. When stdin ends (the
 * worker stopped or died), it kills its children and exits. The framing, both ways:
 *
 *   request:  <bytes>\n then <bytes> bytes of NUL-terminated fields:
 *             run, ID, CWD, STDOUT, STDERR, N, N arguments (flags, --, program, args), M, M
 *             environment entries;  or  kill, ID
 *   answers:  "started ID PID\n"  "exited ID STATUS\n" (the exit code, or 128 + the signal)
 *             "failed ID MESSAGE\n" (no child was started)
 *
 * In order: no core files and the given rlimits; joins each cgroup; dies with its parent (the
 * worker) when --pdeathsig; with --namespaces, new PID and mount namespaces (and a network
 * namespace with --net), forks PROGRAM as the namespace's first process with a fresh /proc,
 * kills it if this process dies, and exits as it exits; drops to UID/GID with no supplementary
 * groups and no new privileges; then runs PROGRAM. When the namespace's first process dies, the
 * kernel kills every other process in it. Exit 125 (with a message on stderr) when a layer
 * cannot be set up; the worker's probe runs it once per layer at start to know which work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SETUP_FAILED 125
#define MAX_CGROUPS 8

static void fail(const char *what) {
  fprintf(stderr, "rex-sandbox: %s: %s\n", what, strerror(errno));
  _exit(SETUP_FAILED);
}

static void usage(const char *problem) {
  fprintf(stderr, "rex-sandbox: %s\n", problem);
  _exit(SETUP_FAILED);
}

static long number(const char *flag, const char *value) {
  char *end;
  errno = 0;
  long n = value == NULL ? -1 : strtol(value, &end, 10);
  if (value == NULL || errno != 0 || *end != '\0' || n < 0) {
    fprintf(stderr, "rex-sandbox: %s needs a number\n", flag);
    _exit(SETUP_FAILED);
  }
  return n;
}

static void limit(int resource, long value, const char *name) {
  struct rlimit rl = {(rlim_t) value, (rlim_t) value};
  if (setrlimit(resource, &rl) != 0) fail(name);
}

static void join_cgroup(const char *dir) {
  char path[4096];
  char pid[32];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int) sizeof path) usage("cgroup path too long");
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(path);
  int len = snprintf(pid, sizeof pid, "%d", (int) getpid());
  if (write(fd, pid, len) != len) fail(path);
  close(fd);
}

/* Waits for the namespace's first process and leaves as it left: same code, or same signal. */
static void wait_and_mirror(pid_t child) {
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  signal(sig, SIG_DFL);
  prctl(PR_SET_DUMPABLE, 0);
  kill(getpid(), sig);
  _exit(128 + sig);
}

/* Holds a new network namespace until stdin reaches its end (the worker closed it, or died). */
static int hold_netns(void) {
  if (unshare(CLONE_NEWNET) != 0) fail("unshare(CLONE_NEWNET)");
  if (write(STDOUT_FILENO, "ready\n", 6) != 6) fail("write");
  char buffer[64];
  while (read(STDIN_FILENO, buffer, sizeof buffer) > 0 || errno == EINTR) {
    errno = 0;
  }
  return 0;
}

/* Joins the network namespace at path, which must be the one with the given inode. */
static void join_netns(const char *path, long inode) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path);
  struct stat st;
  if (fstat(fd, &st) != 0) fail(path);
  if ((long) st.st_ino != inode) {
    fprintf(stderr, "rex-sandbox: %s is not the network namespace expected (inode %ld, not %ld)\n", path,
        (long) st.st_ino, inode);
    _exit(SETUP_FAILED);
  }
  if (setns(fd, CLONE_NEWNET) != 0) fail("setns(CLONE_NEWNET)");
  close(fd);
}

/* Parses the flags in argv[first..], sets every layer up and runs the program with envp. */
static void sandboxed_exec(int argc, char **argv, int first, char **envp) {
  const char *cgroups[MAX_CGROUPS];
  int ncgroups = 0;
  long nofile = -1, nproc = -1, uid = -1, gid = -1, netns_inode = -1;
  const char *netns = NULL;
  int pdeathsig = 0, namespaces = 0, net = 0;
  int i = first;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *flag = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(flag, "--cgroup") == 0) {
      if (value == NULL || ncgroups == MAX_CGROUPS) usage("--cgroup needs a folder (at most 8)");
      cgroups[ncgroups++] = value;
      i++;
    } else if (strcmp(flag, "--nofile") == 0) {
      nofile = number(flag, value);
      i++;
    } else if (strcmp(flag, "--nproc") == 0) {
      nproc = number(flag, value);
      i++;
    } else if (strcmp(flag, "--uid") == 0) {
      uid = number(flag, value);
      i++;
    } else if (strcmp(flag, "--gid") == 0) {
      gid = number(flag, value);
      i++;
    } else if (strcmp(flag, "--netns") == 0) {
      if (value == NULL) usage("--netns needs a path");
      netns = value;
      i++;
    } else if (strcmp(flag, "--netns-inode") == 0) {
      netns_inode = number(flag, value);
      i++;
    } else if (strcmp(flag, "--pdeathsig") == 0) {
      pdeathsig = 1;
    } else if (strcmp(flag, "--namespaces") == 0) {
      namespaces = 1;
    } else if (strcmp(flag, "--net") == 0) {
      net = 1;
    } else {
      fprintf(stderr, "rex-sandbox: unknown flag %s\n", flag);
      _exit(SETUP_FAILED);
    }
  }
  if (i + 1 >= argc) usage("no program after --");
  if ((uid < 0) != (gid < 0)) usage("--uid and --gid go together");
  if ((netns == NULL) != (netns_inode < 0)) usage("--netns and --netns-inode go together");
  if (netns != NULL && net) usage("--netns and --net exclude each other");
  char **program = argv + i + 1;

  if (pdeathsig) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail("PR_SET_PDEATHSIG");
    if (getppid() != parent) _exit(SETUP_FAILED); /* the worker died before the line above */
  }
  limit(RLIMIT_CORE, 0, "RLIMIT_CORE");
  if (nofile >= 0) limit(RLIMIT_NOFILE, nofile, "RLIMIT_NOFILE");
  if (nproc >= 0) limit(RLIMIT_NPROC, nproc, "RLIMIT_NPROC");
  for (int c = 0; c < ncgroups; c++) join_cgroup(cgroups[c]);

  if (netns != NULL) join_netns(netns, netns_inode);
  if (namespaces) {
    if (unshare(CLONE_NEWPID | CLONE_NEWNS | (net ? CLONE_NEWNET : 0)) != 0) fail("unshare");
    pid_t child = fork();
    if (child < 0) fail("fork");
    if (child > 0) wait_and_mirror(child);
    /* The namespace's first process: gone if this helper is killed, and with it the rest. (Its
     * parent is outside the namespace, so getppid() says 0 and cannot tell whether the helper
     * died before this line; the action's cgroup, which the worker kills, covers that instant.) */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail("PR_SET_PDEATHSIG");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("making mounts private");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) fail("mounting /proc");
  }
  if (uid >= 0) {
    if (setgroups(0, NULL) != 0) fail("setgroups");
    if (setresgid((gid_t) gid, (gid_t) gid, (gid_t) gid) != 0) fail("setresgid");
    if (setresuid((uid_t) uid, (uid_t) uid, (uid_t) uid) != 0) fail("setresuid");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS");
  execve(program[0], program, envp);
  fprintf(stderr, "rex-sandbox: cannot run %s: %s\n", program[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

/* The fork server's children, by request id. */
#define MAX_CHILDREN 4096
static struct { pid_t pid; char id[64]; } children[MAX_CHILDREN];

static void answer(const char *format, const char *id, long value, const char *message) {
  char line[512];
  int len = message == NULL ? snprintf(line, sizeof line, format, id, value)
                            : snprintf(line, sizeof line, format, id, message);
  if (len >= (int) sizeof line) len = sizeof line - 1;
  for (int done = 0; done < len;) {
    ssize_t n = write(STDOUT_FILENO, line + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0); /* the worker is gone */
    done += n;
  }
}

/* Splits a request's payload into its NUL-terminated fields. */
static int fields(char *payload, size_t size, char **out, int max) {
  int n = 0;
  for (size_t start = 0, at = 0; at < size; at++) {
    if (payload[at] == '\0') {
      if (n == max) return -1;
      out[n++] = payload + start;
      start = at + 1;
    }
  }
  return n;
}

static void run_child(int nfields, char **field, sigset_t *blocked) {
  /* field: run, id, cwd, stdout, stderr, N, args..., M, env... */
  if (nfields < 7) {
    answer("failed %s %s\n", nfields > 1 ? field[1] : "?", 0, "malformed run request");
    return;
  }
  long nargs = strtol(field[5], NULL, 10);
  if (nargs < 2 || 6 + nargs >= nfields) {
    answer("failed %s %s\n", field[1], 0, "malformed argument list");
    return;
  }
  long nenv = strtol(field[6 + nargs], NULL, 10);
  if (nenv < 0 || 7 + nargs + nenv > nfields) {
    answer("failed %s %s\n", field[1], 0, "malformed environment");
    return;
  }
  int slot = -1;
  for (int c = 0; c < MAX_CHILDREN; c++) {
    if (children[c].pid == 0) {
      slot = c;
      break;
    }
  }
  if (slot < 0) {
    answer("failed %s %s\n", field[1], 0, "too many children");
    return;
  }
  pid_t pid = fork();
  if (pid < 0) {
    answer("failed %s %s\n", field[1], 0, strerror(errno));
    return;
  }
  if (pid == 0) {
    sigprocmask(SIG_UNBLOCK, blocked, NULL);
    int in = open("/dev/null", O_RDONLY);
    int out = open(field[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(field[4], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
      _exit(SETUP_FAILED);
    }
    close(in);
    close(out);
    close(err);
    if (chdir(field[2]) != 0) fail(field[2]);
    char **argv = field + 5; /* argv[0] is the count, standing in for the program name */
    char **envp = field + 7 + nargs;
    field[7 + nargs + nenv] = NULL; /* safe: the fields array has room past the last one */
    argv[nargs + 1] = NULL;
    sandboxed_exec((int) nargs + 1, argv, 1, envp);
  }
  children[slot].pid = pid;
  snprintf(children[slot].id, sizeof children[slot].id, "%s", field[1]);
  answer("started %s %ld\n", field[1], pid, NULL);
}

static void kill_child(const char *id) {
  for (int c = 0; c < MAX_CHILDREN; c++) {
    if (children[c].pid != 0 && strcmp(children[c].id, id) == 0) kill(children[c].pid, SIGKILL);
  }
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int c = 0; c < MAX_CHILDREN; c++) {
      if (children[c].pid == pid) {
        long code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        answer("exited %s %ld\n", children[c].id, code, NULL);
        children[c].pid = 0;
      }
    }
  }
}

static int serve(void) {
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &blocked, NULL) != 0) fail("sigprocmask");
  int signals = signalfd(-1, &blocked, SFD_CLOEXEC);
  if (signals < 0) fail("signalfd");
  size_t cap = 1 << 16, len = 0;
  char *buffer = malloc(cap);
  char **field = malloc(sizeof(char *) * (cap / 2 + 2));
  if (buffer == NULL || field == NULL) fail("malloc");
  struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signals, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      if (read(signals, &info, sizeof info) < 0 && errno != EAGAIN) fail("signalfd read");
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (len == cap) {
        cap *= 2;
        buffer = realloc(buffer, cap);
        field = realloc(field, sizeof(char *) * (cap / 2 + 2));
        if (buffer == NULL || field == NULL) fail("realloc");
      }
      ssize_t n = read(STDIN_FILENO, buffer + len, cap - len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        for (int c = 0; c < MAX_CHILDREN; c++) {
          if (children[c].pid != 0) kill(children[c].pid, SIGKILL);
        }
        return 0;
      }
      len += n;
      for (;;) {
        char *newline = memchr(buffer, '\n', len);
        if (newline == NULL) break;
        size_t header = newline - buffer + 1;
        size_t size = strtoul(buffer, NULL, 10);
        if (len < header + size) break;
        int nfields = fields(buffer + header, size, field, (int) (cap / 2));
        if (nfields >= 2 && strcmp(field[0], "run") == 0) {
          run_child(nfields, field, &blocked);
        } else if (nfields >= 2 && strcmp(field[0], "kill") == 0) {
          kill_child(field[1]);
        } else {
          answer("failed %s %s\n", "?", 0, "unknown request");
        }
        memmove(buffer, buffer + header + size, len - header - size);
        len -= header + size;
      }
    }
  }
}

extern char **environ;

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--hold-netns") == 0) return hold_netns();
  if (argc == 2 && strcmp(argv[1], "--serve") == 0) return serve();
  sandboxed_exec(argc, argv, 1, environ);
  return SETUP_FAILED;
}
