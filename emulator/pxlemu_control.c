/*
 * pxlemu_control.c - library init and teardown, the control socket (PXLEMU_CONTROL_SOCKET) and the text
 * commands it serves: PxLEmu_Command looks the command name up in a table of handlers.  The protocol is
 * documented in emulator/README.md ("Control socket protocol").
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ================================================================ init / teardown / control socket */

atomic_int g_shutdown;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_t g_sock_thread;
static int g_sock_running;
static pid_t g_sock_pid; /* the process that owns the socket thread (a forked child does not) */
static atomic_int g_sock_stop;
static int g_listen_fd = -1;
static char g_sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void *sock_main(void *arg);

static void start_control_socket(const char *path)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "pxlemu: PXLEMU_CONTROL_SOCKET path too long: %s\n", path);
        return;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "pxlemu: control socket: socket(): %s\n", strerror(errno));
        return;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    copy_str(sa.sun_path, sizeof sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (live) { /* another live emulator (e.g. our parent process) owns it: leave it alone */
            fprintf(stderr, "pxlemu: control socket %s is in use by another process; not listening\n", path);
            close(fd);
            return;
        }
        unlink(path); /* stale socket from an earlier run */
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0) {
        fprintf(stderr, "pxlemu: control socket %s: %s\n", path, strerror(errno));
        close(fd);
        return;
    }
    g_listen_fd = fd;
    copy_str(g_sock_path, sizeof g_sock_path, path);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits a full mask: no signals */
    if (pthread_create(&g_sock_thread, NULL, sock_main, NULL) == 0) {
        g_sock_running = 1;
        g_sock_pid = getpid();
    } else {
        fprintf(stderr, "pxlemu: control socket: cannot start thread\n");
        close(fd);
        unlink(g_sock_path);
        g_listen_fd = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void do_init(void)
{
    pthread_mutex_lock(&g_mu);
    load_profile_locked();
    pthread_mutex_unlock(&g_mu);
    const char *sock = getenv("PXLEMU_CONTROL_SOCKET");
    if (sock && *sock)
        start_control_socket(sock);
}

void ensure_init(void) { pthread_once(&g_once, do_init); }

__attribute__((constructor)) static void pxlemu_ctor(void) { ensure_init(); }

__attribute__((destructor)) static void pxlemu_dtor(void)
{
    g_shutdown = 1; /* no callback is invoked from now on */
    if (g_sock_running && g_sock_pid == getpid()) {
        g_sock_stop = 1;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        if (pthread_timedjoin_np(g_sock_thread, NULL, &ts) == 0) {
            g_sock_running = 0;
            if (g_listen_fd >= 0)
                close(g_listen_fd);
            g_listen_fd = -1;
        }
        unlink(g_sock_path);
    }
}

#define MAX_CLIENTS 16
#define CLIENT_BUF 4096

/* a new client into a free slot, or turned away */
static void accept_client(int fds[MAX_CLIENTS], size_t lens[MAX_CLIENTS])
{
    int cfd = accept4(g_listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (fds[i] < 0) {
            fds[i] = cfd;
            lens[i] = 0;
            return;
        }
    static const char msg[] = "err too many clients\n";
    (void)!send(cfd, msg, sizeof msg - 1, MSG_NOSIGNAL);
    close(cfd);
}

/* reads what the client sent and answers each complete line; closes the client at EOF or on an error */
static void serve_client(int *fd, char buf[CLIENT_BUF], size_t *len)
{
    ssize_t got = recv(*fd, buf + *len, CLIENT_BUF - 1 - *len, 0);
    if (got <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    *len += (size_t)got;
    char *start = buf;
    char *nl;
    while ((nl = memchr(start, '\n', (size_t)(buf + *len - start))) != NULL) {
        *nl = 0;
        char reply[1024];
        PxLEmu_Command(start, reply, (int)sizeof reply - 1);
        size_t rl = strlen(reply);
        reply[rl++] = '\n';
        size_t off = 0;
        while (off < rl) {
            ssize_t w = send(*fd, reply + off, rl - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        start = nl + 1;
    }
    size_t rest = (size_t)(buf + *len - start);
    memmove(buf, start, rest);
    *len = rest;
    if (*len >= CLIENT_BUF - 1) { /* line too long */
        static const char msg[] = "err line too long\n";
        (void)!send(*fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
        *len = 0;
    }
}

static void *sock_main(void *arg)
{
    (void)arg;
    struct pollfd pfd[MAX_CLIENTS + 1];
    static char bufs[MAX_CLIENTS][CLIENT_BUF];
    size_t lens[MAX_CLIENTS];
    int fds[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++)
        fds[i] = -1;
    while (!g_sock_stop) {
        int n = 0;
        pfd[n].fd = g_listen_fd;
        pfd[n].events = POLLIN;
        n++;
        int map[MAX_CLIENTS + 1];
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (fds[i] >= 0) {
                pfd[n].fd = fds[i];
                pfd[n].events = POLLIN;
                map[n] = i;
                n++;
            }
        int pr = poll(pfd, (nfds_t)n, 100);
        if (pr <= 0)
            continue;
        if (pfd[0].revents & POLLIN)
            accept_client(fds, lens);
        for (int k = 1; k < n; k++)
            if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
                serve_client(&fds[map[k]], bufs[map[k]], &lens[map[k]]);
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

/* ================================================================ text commands */

static int parse_u32(const char *s, U32 *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno || v > 0xFFFFFFFFull)
        return 0;
    *out = (U32)v;
    return 1;
}

static int parse_int(const char *s, int *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (*end || errno || v < -2147483648LL || v > 0xFFFFFFFFLL)
        return 0;
    *out = (int)(int32_t)(uint32_t)(v & 0xFFFFFFFFLL); /* accepts 0x80000017 and -2147483625 */
    return 1;
}

static void fmt_float(char *out, size_t cap, float v)
{
    if (v != v) {
        snprintf(out, cap, "nan");
        return;
    }
    for (int prec = 6; prec <= 9; prec++) { /* shortest text that reads back as the same float */
        snprintf(out, cap, "%.*g", prec, (double)v);
        if (strtof(out, NULL) == v)
            return;
    }
}

#define MAX_TOKENS 8

/* one command being answered: its words (tok[0] the name; NULL past nt) and the reply */
typedef struct {
    char *tok[MAX_TOKENS];
    int nt;
    char reply[1024];
    int ok; /* 0: the reply is an "err ..." line */
} cmd_t;

static void say(cmd_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(cmd_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->reply, sizeof x->reply, fmt, ap);
    va_end(ap);
}

#define ERR(x, ...) ((x)->ok = 0, snprintf((x)->reply, sizeof (x)->reply, "err " __VA_ARGS__))

/* the reply to a control-API result: 0 ok, -1 unknown <what>, else invalid argument */
static void result(cmd_t *x, int r, const char *what)
{
    if (r == 0)
        say(x, "ok");
    else if (r == -1)
        ERR(x, "unknown %s", what);
    else
        ERR(x, "invalid argument");
}

/* the reply to a count or state: the number, or err unknown <what> if it is negative */
static void number(cmd_t *x, long long n, const char *what)
{
    if (n < 0)
        ERR(x, "unknown %s", what);
    else
        say(x, "%lld", n);
}

struct command;
/* A special handler answers its command and returns 1, or returns 0 (nothing said) when the arguments do not
 * fit: the reply is then "err bad command or arguments". */
typedef int (*handler_t)(cmd_t *x, const struct command *cmd);

/* the signature of the control-API function behind a command without a special handler; its arguments are
 * the command's words in order (SERIAL and FEATURE numbers as U32, counts and codes as int, FUNC as text) */
typedef enum { SIG_V, SIG_S, SIG_S_LL, SIG_I, SIG_F, SIG_SI, SIG_FI, SIG_FII } signature_t;

typedef struct command {
    const char *name;
    const char *usage; /* for help; NULL: not listed */
    handler_t special; /* or NULL: call fn */
    signature_t sig;
    union {
        int (*v)(void);
        int (*s)(U32);
        long long (*s_ll)(U32);
        int (*i)(int);
        int (*f)(const char *);
        int (*si)(U32, int);
        int (*fi)(const char *, int);
        int (*fii)(const char *, int, int);
    } fn;
    int number;       /* reply: fn's result as a number (negative: err unknown <what>); else ok / err */
    const char *what; /* what an unknown-name result (-1, or a negative number) refers to */
} command_t;

/* calls cmd->fn with the arguments its signature takes from the words; 0 if they do not parse */
static int run_call(cmd_t *x, const command_t *cmd)
{
    /* the words: S (U32) or F (text) is word 1; I (int) is word 1 for SIG_I, else word 2; the second I word 3 */
    U32 s = 0;
    int i = 0, j = 0;
    const char *f = x->tok[1];
    int need_s = cmd->sig == SIG_S || cmd->sig == SIG_S_LL || cmd->sig == SIG_SI;
    int need_f = cmd->sig == SIG_F || cmd->sig == SIG_FI || cmd->sig == SIG_FII;
    int int_at = cmd->sig == SIG_I ? 1 : (cmd->sig == SIG_SI || cmd->sig == SIG_FI || cmd->sig == SIG_FII) ? 2 : 0;
    if ((need_s && !parse_u32(x->tok[1], &s)) || (need_f && !f) || (int_at && !parse_int(x->tok[int_at], &i)) ||
        (cmd->sig == SIG_FII && !parse_int(x->tok[3], &j)))
        return 0;
    long long r = 0;
    switch (cmd->sig) {
    case SIG_V: r = cmd->fn.v(); break;
    case SIG_S: r = cmd->fn.s(s); break;
    case SIG_S_LL: r = cmd->fn.s_ll(s); break;
    case SIG_I: r = cmd->fn.i(i); break;
    case SIG_F: r = cmd->fn.f(f); break;
    case SIG_SI: r = cmd->fn.si(s, i); break;
    case SIG_FI: r = cmd->fn.fi(f, i); break;
    case SIG_FII: r = cmd->fn.fii(f, i, j); break;
    }
    if (cmd->number)
        number(x, r, cmd->what);
    else
        result(x, (int)r, cmd->what);
    return 1;
}

/* ---------------------------------------------------------------- special handlers */

static int run_ping(cmd_t *x, const command_t *cmd)
{
    (void)cmd;
    say(x, "ok");
    return 1;
}

static int run_help(cmd_t *x, const command_t *cmd);

static int run_cameras(cmd_t *x, const command_t *cmd)
{
    (void)cmd;
    size_t off = 0;
    x->reply[0] = 0;
    pthread_mutex_lock(&g_mu);
    for (camera_t *c = g_cams; c; c = c->next)
        if (c->plugged && off < sizeof x->reply - 16)
            off += (size_t)snprintf(x->reply + off, sizeof x->reply - off, "%s%u", off ? " " : "", c->serial);
    pthread_mutex_unlock(&g_mu);
    if (!off)
        say(x, "none");
    return 1;
}

static int run_add(cmd_t *x, const command_t *cmd) /* MODEL "-" = the profile's model, W H 0 0 = its size */
{
    (void)cmd;
    U32 serial, w = 0, h = 0;
    if (!parse_u32(x->tok[1], &serial))
        return 0;
    const char *model = x->tok[2] && strcmp(x->tok[2], "-") ? x->tok[2] : NULL;
    if (x->nt >= 5 && !(parse_u32(x->tok[3], &w) && parse_u32(x->tok[4], &h)))
        ERR(x, "usage: add SERIAL [MODEL [W H [PROFILE]]]");
    else if (x->tok[5] && !find_profile(x->tok[5]))
        ERR(x, "unknown profile %s (mono, colour)", x->tok[5]);
    else if (PxLEmu_AddCameraEx(serial, model, w, h, x->tok[5]) != 0)
        ERR(x, "cannot add camera %u (exists, serial 0, or bad size for the profile)", serial);
    else
        say(x, "ok");
    return 1;
}

static int run_scene(cmd_t *x, const command_t *cmd) /* scene SERIAL BRIGHTNESS [R G B] */
{
    U32 serial;
    float v[4] = {0, -1, -1, -1};
    if (!parse_u32(x->tok[1], &serial) || !x->tok[2] || (x->nt != 3 && x->nt != 6))
        return 0;
    for (int i = 0; i < x->nt - 2; i++) {
        char *end;
        v[i] = strtof(x->tok[2 + i], &end);
        if (*end || end == x->tok[2 + i])
            return 0;
    }
    result(x, PxLEmu_SetScene(serial, v[0], v[1], v[2], v[3]), cmd->what);
    return 1;
}

static int run_profile(cmd_t *x, const command_t *cmd) /* profile SERIAL -> mono | colour */
{
    U32 serial;
    char name[32];
    if (!parse_u32(x->tok[1], &serial))
        return 0;
    if (PxLEmu_GetProfile(serial, name, sizeof name) != 0)
        ERR(x, "unknown %s", cmd->what);
    else
        say(x, "%s", name);
    return 1;
}

static int run_failnext(cmd_t *x, const command_t *cmd) /* COUNT is optional */
{
    int rc, count = 1;
    if (!x->tok[1] || !parse_int(x->tok[2], &rc) || (x->nt >= 4 && !parse_int(x->tok[3], &count)))
        return 0;
    result(x, PxLEmu_FailNext(x->tok[1], rc, count), cmd->what);
    return 1;
}

static int run_get(cmd_t *x, const command_t *cmd) /* a float: the shortest text that reads back as it */
{
    (void)cmd;
    U32 serial, id, param;
    if (!parse_u32(x->tok[1], &serial) || !parse_u32(x->tok[2], &id) || !parse_u32(x->tok[3], &param))
        return 0;
    float v = PxLEmu_GetFeatureValue(serial, id, param);
    if (v != v) {
        ERR(x, "unknown serial, feature or parameter");
    } else {
        char fb[64];
        fmt_float(fb, sizeof fb, v);
        say(x, "%s", fb);
    }
    return 1;
}

static int run_set(cmd_t *x, const command_t *cmd) /* VALUE is a float */
{
    U32 serial, id, param;
    if (!parse_u32(x->tok[1], &serial) || !parse_u32(x->tok[2], &id) || !parse_u32(x->tok[3], &param) || !x->tok[4])
        return 0;
    char *end;
    float v = strtof(x->tok[4], &end);
    if (*end)
        ERR(x, "bad value");
    else
        result(x, PxLEmu_SetFeatureValue(serial, id, param, v), cmd->what);
    return 1;
}

static int parse_float(const char *s, float *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (*end || errno || !is_finite(v))
        return 0;
    *out = v;
    return 1;
}

/* trigger SERIAL [rising | falling | pulse [WIDTH_S]]: 1 triggered an exposure, 2 missed, 0 neither */
static int run_trigger(cmd_t *x, const command_t *cmd)
{
    U32 serial;
    float width = 0.0f;
    if (!parse_u32(x->tok[1], &serial) || x->nt > 4)
        return 0;
    const char *edge = x->tok[2] ? x->tok[2] : "pulse";
    int r;
    if (!strcmp(edge, "rising") && x->nt == 3)
        r = PxLEmu_SetInput(serial, 1);
    else if (!strcmp(edge, "falling") && x->nt == 3)
        r = PxLEmu_SetInput(serial, 0);
    else if (!strcmp(edge, "pulse") && (x->nt < 4 || parse_float(x->tok[3], &width)))
        r = PxLEmu_TriggerPulse(serial, width);
    else
        return 0;
    number(x, r, cmd->what);
    if (r == -2)
        ERR(x, "invalid argument (pulse width 0..1 s)");
    return 1;
}

/* triggers SERIAL COUNT PERIOD_S [WIDTH_S] */
static int run_triggers(cmd_t *x, const command_t *cmd)
{
    U32 serial;
    int count;
    float period, width = -1.0f;
    if (!parse_u32(x->tok[1], &serial) || !parse_int(x->tok[2], &count) || !parse_float(x->tok[3], &period) ||
        (x->nt == 5 && !parse_float(x->tok[4], &width)) || x->nt > 5)
        return 0;
    result(x, PxLEmu_TriggerBurst(serial, count, period, width), cmd->what);
    return 1;
}

/* input SERIAL 0|1 (alias gpi): the input line's level; reply as trigger */
static int run_input(cmd_t *x, const command_t *cmd)
{
    U32 serial;
    int level;
    if (!parse_u32(x->tok[1], &serial) || !parse_int(x->tok[2], &level) || x->nt != 3)
        return 0;
    int r = PxLEmu_SetInput(serial, level);
    if (r == -2)
        ERR(x, "invalid argument (level 0 or 1)");
    else
        number(x, r, cmd->what);
    return 1;
}

/* gpo SERIAL INDEX -> "LEVEL COUNT" */
static int run_gpo(cmd_t *x, const command_t *cmd)
{
    U32 serial, index;
    long long count = 0;
    if (!parse_u32(x->tok[1], &serial) || !parse_u32(x->tok[2], &index) || x->nt != 3)
        return 0;
    int level = PxLEmu_GetOutput(serial, index, &count);
    if (level == -1)
        ERR(x, "unknown %s", cmd->what);
    else if (level < 0)
        ERR(x, "invalid argument (GPIO index 1..%d)", GPIO_LINES);
    else
        say(x, "%d %lld", level, count);
    return 1;
}

/* trigstats SERIAL -> "ACCEPTED MISSED SKIPPED" */
static int run_trigstats(cmd_t *x, const command_t *cmd)
{
    U32 serial;
    long long a = 0, m = 0, k = 0;
    if (!parse_u32(x->tok[1], &serial) || x->nt != 2)
        return 0;
    if (PxLEmu_TriggerCounts(serial, &a, &m, &k) != 0)
        ERR(x, "unknown %s", cmd->what);
    else
        say(x, "%lld %lld %lld", a, m, k);
    return 1;
}

/* temperature SERIAL SENSOR_C [BODY_C] */
static int run_temperature(cmd_t *x, const command_t *cmd)
{
    U32 serial;
    float sensor, body = __builtin_nanf("");
    if (!parse_u32(x->tok[1], &serial) || !parse_float(x->tok[2], &sensor) ||
        (x->nt == 4 && !parse_float(x->tok[3], &body)) || x->nt > 4)
        return 0;
    result(x, PxLEmu_SetTemperature(serial, sensor, body), cmd->what);
    return 1;
}

/* trigtimeout SERIAL SECONDS */
static int run_trigtimeout(cmd_t *x, const command_t *cmd)
{
    U32 serial;
    float seconds;
    if (!parse_u32(x->tok[1], &serial) || !parse_float(x->tok[2], &seconds) || x->nt != 3)
        return 0;
    result(x, PxLEmu_SetTriggerTimeout(serial, seconds), cmd->what);
    return 1;
}

/* ---------------------------------------------------------------- the command table */

#define SPECIAL(name, usage, handler, what) {name, usage, handler, SIG_V, {0}, 0, what}
#define CALL(name, usage, sig, member, func, number, what) {name, usage, NULL, sig, {.member = func}, number, what}

static const command_t commands[] = {
    SPECIAL("ping", "ping", run_ping, ""),
    SPECIAL("help", NULL, run_help, ""),
    CALL("reset", "reset", SIG_V, v, PxLEmu_Reset, 0, ""),
    SPECIAL("cameras", "cameras", run_cameras, ""),
    SPECIAL("add", "add SERIAL [MODEL [W H [PROFILE]]]", run_add, ""),
    SPECIAL("profile", "profile SERIAL", run_profile, "serial"),
    SPECIAL("scene", "scene SERIAL BRIGHTNESS [R G B]", run_scene, "serial"),
    CALL("remove", "remove SERIAL", SIG_S, s, PxLEmu_RemoveCamera, 0, "serial"),
    CALL("unplug", "unplug SERIAL", SIG_S, s, PxLEmu_Unplug, 0, "serial"),
    CALL("replug", "replug SERIAL", SIG_S, s, PxLEmu_Replug, 0, "serial"),
    CALL("bootdelay", "bootdelay SERIAL MS", SIG_SI, si, PxLEmu_SetBootDelay, 0, "serial"),
    SPECIAL("failnext", "failnext FUNC RC [COUNT]", run_failnext, "function"),
    CALL("failevery", "failevery FUNC RC N", SIG_FII, fii, PxLEmu_FailEvery, 0, "function"),
    CALL("clearfaults", "clearfaults", SIG_V, v, PxLEmu_ClearFaults, 0, ""),
    CALL("latency", "latency FUNC US", SIG_FI, fi, PxLEmu_SetLatency, 0, "function"),
    CALL("drop", "drop SERIAL N", SIG_SI, si, PxLEmu_DropFrames, 0, "serial"),
    SPECIAL("trigger", "trigger SERIAL [rising|falling|pulse [WIDTH_S]]", run_trigger, "serial"),
    SPECIAL("triggers", "triggers SERIAL COUNT PERIOD_S [WIDTH_S]", run_triggers, "serial"),
    SPECIAL("input", "input SERIAL 0|1", run_input, "serial"),
    SPECIAL("gpi", "gpi SERIAL 0|1", run_input, "serial"),
    SPECIAL("gpo", "gpo SERIAL INDEX", run_gpo, "serial"),
    SPECIAL("trigstats", "trigstats SERIAL", run_trigstats, "serial"),
    SPECIAL("temperature", "temperature SERIAL SENSOR_C [BODY_C]", run_temperature, "serial"),
    SPECIAL("trigtimeout", "trigtimeout SERIAL SECONDS", run_trigtimeout, "serial"),
    CALL("waiting", "waiting SERIAL", SIG_S, s, PxLEmu_GrabWaiters, 1, "serial"),
    CALL("count", "count FUNC", SIG_F, f, PxLEmu_CallCount, 1, "function"),
    CALL("resetcounts", "resetcounts", SIG_V, v, PxLEmu_ResetCounts, 0, ""),
    CALL("handles", "handles", SIG_V, v, PxLEmu_OpenHandleCount, 1, ""),
    CALL("stale", "stale", SIG_V, v, PxLEmu_StaleHandleCount, 1, ""),
    SPECIAL("get", "get SERIAL FEATURE PARAM", run_get, ""),
    SPECIAL("set", "set SERIAL FEATURE PARAM VALUE", run_set, "serial"),
    CALL("state", "state SERIAL", SIG_S, s, PxLEmu_GetStreamState, 1, "serial"),
    CALL("frame", "frame SERIAL", SIG_S_LL, s_ll, PxLEmu_LastFrameNumber, 1, "serial"),
    CALL("freerun", "freerun 0|1", SIG_I, i, PxLEmu_SetFreeRun, 0, ""),
};

#define NUM_COMMANDS (sizeof commands / sizeof commands[0])

static int run_help(cmd_t *x, const command_t *cmd) /* "ok commands: " and the usages, separated by " | " */
{
    (void)cmd;
    size_t off = (size_t)snprintf(x->reply, sizeof x->reply, "ok commands: ");
    const char *sep = "";
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        if (commands[i].usage && off < sizeof x->reply) {
            off += (size_t)snprintf(x->reply + off, sizeof x->reply - off, "%s%s", sep, commands[i].usage);
            sep = " | ";
        }
    return 1;
}

PXLAPI int PxLEmu_Command(const char *line, char *reply, int replySize)
{
    ensure_init();
    if (!reply || replySize <= 0)
        return -2;
    char buf[512];
    cmd_t x = {.ok = 1};
    copy_str(buf, sizeof buf, line ? line : "");
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t\r\n", &save); t && x.nt < MAX_TOKENS; t = strtok_r(NULL, " \t\r\n", &save))
        x.tok[x.nt++] = t;
    const command_t *cmd = NULL;
    for (size_t i = 0; x.nt && i < NUM_COMMANDS && !cmd; i++)
        if (!strcmp(commands[i].name, x.tok[0]))
            cmd = &commands[i];
    if (x.nt == 0)
        ERR(&x, "empty command");
    else if (!cmd || !(cmd->special ? cmd->special(&x, cmd) : run_call(&x, cmd)))
        ERR(&x, "bad command or arguments: %s (try help)", x.tok[0]);
    copy_str(reply, (size_t)replySize, x.reply);
    return x.ok ? 0 : -1;
}
