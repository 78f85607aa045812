/*
 * rtpgen: the native load generator of bench/media (run.ts compiles it with `cc -O2` when a C
 * compiler is there; otherwise the bench falls back to its JavaScript generator). It plays the far
 * ends of G.711 calls: 2 x SIDES UDP sockets on 127.0.0.1, calls spread over them, 172-byte RTP
 * packets at an exact total rate, batched with sendmmsg(2) (one syscall per socket per 1 ms tick)
 * and read with epoll + recvmmsg(2). A JavaScript generator could not reach 20k packets/s on a
 * loaded 2-core machine; this one spends ~1-2 us per packet.
 *
 *   rtpgen RELAY_PID SIDES
 *   -> stdout: "ports A1 .. A_SIDES B1 .. B_SIDES"
 *   <- stdin:  "calls N", N lines "TO_A TO_B" (the relay's ports facing A and B),
 *              "run PPS SECONDS WARMUP_MS"
 *   -> stdout: one JSON line of counters, then it exits.
 *
 * The relay's CPU in the window (after WARMUP_MS, for SECONDS) is read here from
 * /proc/RELAY_PID/task/STAR/schedstat (run time of every thread), at the window's exact edges.
 * After sending it drains: it reads until nothing arrives for 500 ms (at most 15 s).
 * Bounded: SIDES <= 512, N <= 20000, SECONDS <= 600.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT 172
#define BATCH 256
#define MAXSIDES 512
#define MAXCALLS 20000

struct stream {
  int si; /* index into socks */
  struct sockaddr_in to;
  uint32_t ssrc;
  uint16_t seq;
  uint32_t ts;
  unsigned char pkt[PKT];
};

static int socks[2 * MAXSIDES];
static struct stream *streams;
static int nstreams;
static long long received, window_received, sent, send_errors;
static int counting;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static long long cpu_us(int pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  long long ns = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[320];
    snprintf(p, sizeof p, "/proc/%d/task/%s/schedstat", pid, e->d_name);
    FILE *f = fopen(p, "r");
    if (!f) continue;
    long long v = 0;
    if (fscanf(f, "%lld", &v) == 1) ns += v;
    fclose(f);
  }
  closedir(d);
  return ns / 1000;
}

static void drain(int ep) {
  static struct epoll_event evs[64];
  static struct mmsghdr msgs[64];
  static struct iovec iov[64];
  static unsigned char bufs[64][256];
  int n = epoll_wait(ep, evs, 64, 0);
  for (int i = 0; i < n; i++) {
    int fd = evs[i].data.fd;
    for (;;) {
      for (int k = 0; k < 64; k++) {
        iov[k].iov_base = bufs[k];
        iov[k].iov_len = sizeof bufs[k];
        memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int r = recvmmsg(fd, msgs, 64, MSG_DONTWAIT, NULL);
      if (r <= 0) break;
      for (int k = 0; k < r; k++) {
        unsigned len = msgs[k].msg_len;
        int pt = bufs[k][1] & 0x7f;
        /* RTP only: RTCP the relay generates (RFC 5761 §4: PT 64-95) is not counted. */
        if (len < 12 || (pt >= 64 && pt <= 95)) continue;
        received++;
        if (counting) window_received++;
      }
      if (r < 64) break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rtpgen RELAY_PID SIDES\n");
    return 2;
  }
  int pid = atoi(argv[1]);
  int sides = atoi(argv[2]);
  if (sides < 1 || sides > MAXSIDES) return 2;
  int ep = epoll_create1(0);
  printf("ports");
  for (int i = 0; i < 2 * sides; i++) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int sz = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) return perror("bind"), 1;
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    printf(" %d", ntohs(a.sin_port));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    socks[i] = s;
  }
  printf("\n");
  fflush(stdout);

  int ncalls = 0;
  if (scanf(" calls %d", &ncalls) != 1 || ncalls < 0 || ncalls > MAXCALLS) return 2;
  nstreams = 2 * ncalls;
  streams = calloc(nstreams ? nstreams : 1, sizeof *streams);
  for (int i = 0; i < ncalls; i++) {
    int toA, toB;
    if (scanf(" %d %d", &toA, &toB) != 2) return 2;
    for (int d = 0; d < 2; d++) {
      struct stream *s = &streams[2 * i + d];
      s->si = d * sides + i % sides;
      s->to.sin_family = AF_INET;
      s->to.sin_port = htons(d ? toB : toA);
      s->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      s->ssrc = 0x10000 + 2 * i + d;
      memset(s->pkt, 0xd5, PKT);
      s->pkt[0] = 0x80;
      s->pkt[1] = 0;
    }
  }
  double pps, seconds, warmup_ms;
  if (scanf(" run %lf %lf %lf", &pps, &seconds, &warmup_ms) != 3) return 2;
  if (seconds > 600) seconds = 600;

  static struct mmsghdr batch[2 * MAXSIDES][BATCH];
  static struct iovec biov[2 * MAXSIDES][BATCH];
  static int nb[2 * MAXSIDES];

  double t0 = now_s();
  double total = warmup_ms / 1000 + seconds;
  long long cpu0 = 0, cpu1 = 0, sent0 = 0, sent1 = 0;
  double w0 = 0, w1;
  int next = 0;
  for (;;) {
    double el = now_s() - t0;
    if (!counting && w0 == 0 && el * 1000 >= warmup_ms) {
      counting = 1;
      cpu0 = cpu_us(pid);
      w0 = now_s();
      sent0 = sent;
    }
    if (el >= total) break;
    long long due = (long long)(el * pps) - sent;
    /* In rounds of at most one packet per stream: a stream's buffer is reused by the next round
     * only after sendmmsg has copied it. A late tick (a loaded machine) catches up at once. */
    while (due > 0 && nstreams > 0) {
      long long round = due > nstreams ? nstreams : due;
      due -= round;
      memset(nb, 0, sizeof(int) * 2 * sides);
      for (long long k = 0; k < round; k++) {
        struct stream *s = &streams[next];
        next = (next + 1) % nstreams;
        s->pkt[2] = s->seq >> 8;
        s->pkt[3] = s->seq & 0xff;
        s->pkt[4] = s->ts >> 24;
        s->pkt[5] = (s->ts >> 16) & 0xff;
        s->pkt[6] = (s->ts >> 8) & 0xff;
        s->pkt[7] = s->ts & 0xff;
        s->pkt[8] = s->ssrc >> 24;
        s->pkt[9] = (s->ssrc >> 16) & 0xff;
        s->pkt[10] = (s->ssrc >> 8) & 0xff;
        s->pkt[11] = s->ssrc & 0xff;
        s->seq++;
        s->ts += 160;
        int si = s->si;
        if (nb[si] == BATCH) {
          /* flush a full batch at once */
          int r = sendmmsg(socks[si], batch[si], nb[si], 0);
          if (r < nb[si]) send_errors += nb[si] - (r < 0 ? 0 : r);
          nb[si] = 0;
        }
        struct mmsghdr *m = &batch[si][nb[si]];
        struct iovec *v = &biov[si][nb[si]];
        v->iov_base = s->pkt;
        v->iov_len = PKT;
        memset(&m->msg_hdr, 0, sizeof m->msg_hdr);
        m->msg_hdr.msg_name = &s->to;
        m->msg_hdr.msg_namelen = sizeof s->to;
        m->msg_hdr.msg_iov = v;
        m->msg_hdr.msg_iovlen = 1;
        nb[si]++;
        sent++;
      }
      for (int q = 0; q < 2 * sides; q++) {
        if (!nb[q]) continue;
        int r = sendmmsg(socks[q], batch[q], nb[q], 0);
        if (r < nb[q]) send_errors += nb[q] - (r < 0 ? 0 : r);
      }
    }
    drain(ep);
    struct timespec ts = {0, 500000};
    nanosleep(&ts, NULL);
  }
  cpu1 = cpu_us(pid);
  w1 = now_s();
  sent1 = sent;
  counting = 0;
  long long wr = window_received;
  /* Drain until nothing arrives for 500 ms (at most 15 s). */
  long long last = -1;
  for (double t = now_s(), quiet = now_s(); now_s() - t < 15;) {
    drain(ep);
    if (received != last) {
      last = received;
      quiet = now_s();
    } else if (now_s() - quiet > 0.5)
      break;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  printf(
      "{\"sent\":%lld,\"received\":%lld,\"sendErrors\":%lld,\"windowSent\":%lld,"
      "\"windowReceived\":%lld,\"windowUs\":%.0f,\"cpuUs\":%lld}\n",
      sent, received, send_errors, sent1 - sent0, wr, (w1 - w0) * 1e6, cpu1 - cpu0);
  fflush(stdout);
  return 0;
}
