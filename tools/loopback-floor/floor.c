// The floor of this machine for N unpipelined clients over loopback TCP: the least a request/reply costs
// when the server does nothing else. A single-threaded epoll server (the Redis model) answers each request
// line with an equally long reply line; a single-threaded epoll client keeps one request in flight on each of
// N connections and measures round trips per second and their latency. With --fsync FILE the server also
// appends what each round of ready connections sent to FILE (preallocated, zero-filled) and fdatasyncs it
// before it replies: the least a durable, group-committed request costs (Redis `appendfsync always`).
//
// Build and run: tools/loopback-floor/run [--connections N] [--seconds S] [--bytes B] [--fsync DIR]
// Loopback only (127.0.0.1, an ephemeral port); stops by itself after S seconds.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONNECTIONS = 1024, MAX_BYTES = 1024, HISTOGRAM_MICROS = 100000 };

static void die(const char *what) {
    perror(what);
    exit(1);
}

static uint64_t now_nanos(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void write_all(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) continue;  // replies are tiny; the socket buffer has room
        if (n <= 0) return;
        bytes += n;
        length -= (size_t)n;
    }
}

// One thread: accept, read every ready connection, (optionally) write+fdatasync the round, reply.
static void serve(int listener, int log_fd, size_t bytes) {
    int epoll = epoll_create1(0);
    if (epoll < 0) die("epoll_create1");
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event) < 0) die("epoll_ctl");
    static char input[MAX_CONNECTIONS][MAX_BYTES];
    static size_t filled[MAX_CONNECTIONS];
    static int ready[MAX_CONNECTIONS];
    static char log_buffer[MAX_CONNECTIONS * MAX_BYTES];
    struct epoll_event events[MAX_CONNECTIONS];
    off_t log_offset = 0;
    const off_t log_length = 64 << 20;
    for (;;) {
        int count = epoll_wait(epoll, events, MAX_CONNECTIONS, -1);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) die("epoll_wait");
        int replies = 0;
        size_t logged = 0;
        for (int i = 0; i < count; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
                if (client < 0 || client >= MAX_CONNECTIONS) continue;
                int one = 1;
                setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event add = {.events = EPOLLIN, .data.fd = client};
                epoll_ctl(epoll, EPOLL_CTL_ADD, client, &add);
                continue;
            }
            ssize_t n = read(fd, input[fd] + filled[fd], bytes - filled[fd]);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                close(fd);
                continue;
            }
            filled[fd] += (size_t)n;
            if (filled[fd] == bytes) {
                memcpy(log_buffer + logged, input[fd], bytes);
                logged += bytes;
                ready[replies++] = fd;
            }
        }
        if (log_fd >= 0 && logged > 0) {
            if (log_offset + (off_t)logged > log_length) log_offset = 0;
            if (pwrite(log_fd, log_buffer, logged, log_offset) != (ssize_t)logged) die("pwrite");
            if (fdatasync(log_fd) != 0) die("fdatasync");
            log_offset += (off_t)logged;
        }
        for (int i = 0; i < replies; i++) {
            int fd = ready[i];
            write_all(fd, input[fd], bytes);
            filled[fd] = 0;
        }
    }
}

int main(int argc, char **argv) {
    int connections = 50, seconds = 10;
    size_t bytes = 48;
    const char *fsync_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--connections") && i + 1 < argc) connections = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = (size_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fsync") && i + 1 < argc) fsync_dir = argv[++i];
        else {
            fprintf(stderr, "usage: floor [--connections N] [--seconds S] [--bytes B] [--fsync DIR]\n");
            return 2;
        }
    }
    if (connections < 1 || connections > MAX_CONNECTIONS - 16 || seconds < 1 || seconds > 300 || bytes < 2
        || bytes > MAX_BYTES) {
        fprintf(stderr, "floor: connections 1-%d, seconds 1-300, bytes 2-%d\n", MAX_CONNECTIONS - 16, MAX_BYTES);
        return 2;
    }

    int log_fd = -1;
    char log_path[4096];
    if (fsync_dir) {
        snprintf(log_path, sizeof log_path, "%s/loopback-floor.%d.log", fsync_dir, (int)getpid());
        log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (log_fd < 0) die("open log");
        static char zeros[1 << 20];
        for (int i = 0; i < 64; i++)
            if (write(log_fd, zeros, sizeof zeros) != (ssize_t)sizeof zeros) die("preallocate log");
        if (fsync(log_fd) != 0) die("fsync");
    }

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0) die("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) die("bind");
    if (listen(listener, 1024) < 0) die("listen");
    socklen_t length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);

    pid_t server = fork();
    if (server < 0) die("fork");
    if (server == 0) {
        signal(SIGTERM, SIG_DFL);
        serve(listener, log_fd, bytes);
        _exit(0);
    }
    close(listener);

    int epoll = epoll_create1(0);
    static int sockets[MAX_CONNECTIONS];
    static uint64_t sent_at[MAX_CONNECTIONS];
    static size_t received[MAX_CONNECTIONS];
    char request[MAX_BYTES];
    memset(request, 'b', bytes - 1);
    request[bytes - 1] = '\n';
    for (int c = 0; c < connections; c++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        struct epoll_event add = {.events = EPOLLIN, .data.u32 = (uint32_t)c};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &add);
        sockets[c] = fd;
    }
    uint32_t *latencies = calloc(HISTOGRAM_MICROS + 1, sizeof(uint32_t));
    uint64_t start = now_nanos(), warm = start + 1000000000u, end = warm + (uint64_t)seconds * 1000000000u;
    uint64_t round_trips = 0;
    for (int c = 0; c < connections; c++) {
        sent_at[c] = now_nanos();
        write_all(sockets[c], request, bytes);
    }
    struct epoll_event events[MAX_CONNECTIONS];
    char reply[MAX_BYTES];
    for (;;) {
        int count = epoll_wait(epoll, events, MAX_CONNECTIONS, 100);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) die("epoll_wait");
        uint64_t now = now_nanos();
        if (now >= end) break;
        for (int i = 0; i < count; i++) {
            int c = (int)events[i].data.u32;
            ssize_t n = read(sockets[c], reply, bytes - received[c]);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                fprintf(stderr, "floor: the server closed a connection\n");
                return 1;
            }
            received[c] += (size_t)n;
            if (received[c] < bytes) continue;
            received[c] = 0;
            if (now >= warm) {
                uint64_t micros = (now - sent_at[c]) / 1000;
                latencies[micros > HISTOGRAM_MICROS ? HISTOGRAM_MICROS : micros]++;
                round_trips++;
            }
            sent_at[c] = now_nanos();
            write_all(sockets[c], request, bytes);
        }
    }
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    if (log_fd >= 0) unlink(log_path);

    uint64_t seen = 0, p50 = 0, p99 = 0, p999 = 0;
    for (uint32_t micros = 0; micros <= HISTOGRAM_MICROS; micros++) {
        seen += latencies[micros];
        if (!p50 && seen * 2 >= round_trips) p50 = micros;
        if (!p99 && seen * 100 >= round_trips * 99) p99 = micros;
        if (!p999 && seen * 1000 >= round_trips * 999) p999 = micros;
    }
    printf("loopback floor: %d connections x 1, %zu-byte lines, %s, %d s\n", connections, bytes,
           fsync_dir ? "write+fdatasync per round (server)" : "no log", seconds);
    printf("round trips/s %.0f  p50 %llu us  p99 %llu us  p99.9 %llu us\n", (double)round_trips / seconds,
           (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)p999);
    return 0;
}
