/*
 * pxlemu.c - PixeLINK 4.0 API emulator (a test double of libPxLApi.so for Linux x86-64): the core.
 *
 * Loaded by the UNMODIFIED pixelinkWrapper 1.5.0 in place of the vendor library.  Emulates
 * cameras (enumeration, features, streaming with realistic timing, a deterministic test
 * pattern, image formatting, disconnects) and offers fault injection through exported
 * PxLEmu_* functions and an optional Unix-domain control socket.  The library is built from every
 * .c file in this folder except stress.c; pxlemu_internal.h lists them and documents the lock order.
 *
 * This file: small helpers, call counters and fault rules, handle -> camera lookup, error reports,
 * the API entry (counting, latency, faults).
 *
 * Facts used: /work/shared/pixelink/SDK-ABI.md (signatures, layouts, codes, units).
 * Behaviour, profile and protocol: emulator/README.md.
 *
 * C11 + POSIX/GNU (pthreads, sockets).  No dependency beyond libc (no libm).
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pxlemu_rcnames.h"

/* ================================================================ small helpers */

double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct timespec abs_time(double t)
{
    struct timespec ts;
    if (t < 0)
        t = 0;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (ts.tv_nsec < 0)
        ts.tv_nsec = 0;
    return ts;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L}, rem;
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}

/* libm-free helpers */
double rnd(double x) { return x >= 0 ? (double)(long long)(x + 0.5) : -(double)(long long)(-x + 0.5); }
double flr(double x)
{
    double t = (double)(long long)x;
    return (t > x) ? t - 1.0 : t;
}
int is_finite(float f) { return f == f && f - f == 0.0f; }
static double my_exp(double y) /* e^y for moderate |y|: range reduction + Taylor */
{
    int k = 0;
    while (y > 0.5 || y < -0.5) {
        y *= 0.5;
        k++;
    }
    double term = 1.0, sum = 1.0;
    for (int i = 1; i < 30; i++) {
        term *= y / i;
        sum += term;
    }
    while (k-- > 0)
        sum *= sum;
    return sum;
}
double db_to_linear(double db) { return my_exp(db * 0.11512925464970229); /* ln(10)/20 */ }
double exp_(double y) { return my_exp(y); }
double ln_(double x) /* x = m * 2^k with m in [0.75, 1.5); ln m = 2 atanh((m-1)/(m+1)) */
{
    if (!(x > 0))
        return -1e300;
    int k = 0;
    while (x >= 1.5) {
        x *= 0.5;
        k++;
    }
    while (x < 0.75) {
        x *= 2.0;
        k--;
    }
    double t = (x - 1.0) / (x + 1.0), t2 = t * t, term = t, sum = 0.0;
    for (int i = 1; i < 40; i += 2) {
        sum += term / i;
        term *= t2;
    }
    return 2.0 * sum + k * 0.6931471805599453;
}
double pow_(double x, double y) { return x > 0 ? my_exp(y * ln_(x)) : 0.0; }

void copy_str(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return;
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static const char *rc_name(PXL_RETURN_CODE rc)
{
    for (size_t i = 0; i < sizeof rc_names / sizeof rc_names[0]; i++)
        if (rc_names[i].code == (uint32_t)rc)
            return rc_names[i].name;
    return "ApiUnknownError";
}

/* ================================================================ function table, counters, faults */

#define X_NAME(n) #n,
static const char *const fn_names[FN_COUNT] = {PXL_FUNCS(X_NAME)};
#undef X_NAME

pthread_mutex_t g_fmu = PTHREAD_MUTEX_INITIALIZER;
fstate_t g_f[FN_COUNT];

static int fn_index(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < FN_COUNT; i++)
        if (strcmp(fn_names[i], name) == 0)
            return i;
    return -1;
}

fstate_t *lock_fstate(const char *name)
{
    ensure_init();
    int i = fn_index(name);
    if (i < 0)
        return NULL;
    pthread_mutex_lock(&g_fmu);
    return &g_f[i];
}

/* ================================================================ handle -> camera */

/* the camera of handle h (ApiInvalidHandleError if unknown or invalidated), with a reference: put_cam() */
static PXL_RETURN_CODE get_cam(HANDLE h, camera_t **pc, unsigned *pgen, U32 *pflags)
{
    U32 id = (U32)(uintptr_t)h;
    pthread_mutex_lock(&g_mu);
    hrec_t *r = find_handle(id);
    if (!r || r->cam->retired || r->gen != r->cam->gen) {
        pthread_mutex_unlock(&g_mu);
        return ApiInvalidHandleError;
    }
    r->cam->refs++;
    *pc = r->cam;
    if (pgen)
        *pgen = r->gen;
    if (pflags)
        *pflags = r->flags;
    pthread_mutex_unlock(&g_mu);
    return ApiSuccess;
}

void put_cam(camera_t *c)
{
    pthread_mutex_lock(&g_mu);
    c->refs--;
    pthread_mutex_unlock(&g_mu);
}

PXL_RETURN_CODE alive(camera_t *c, unsigned gen)
{
    if (c->retired || c->gen != gen)
        return ApiInvalidHandleError;
    if (!c->plugged)
        return ApiNoCameraError;
    return ApiSuccess;
}

PXL_RETURN_CODE cam_enter(HANDLE h, const char *fn, int access, camera_t **pc, unsigned *pgen, U32 *pflags)
{
    unsigned gen;
    U32 flags;
    PXL_RETURN_CODE rc = get_cam(h, pc, &gen, &flags);
    if (rc)
        return rc;
    camera_t *c = *pc;
    pthread_mutex_lock(&c->mu);
    rc = alive(c, gen);
    if (rc == ApiNoCameraError)
        set_err(c, fn, rc, "camera %u has been disconnected", c->serial);
    else if (!rc && access == ACCESS_CONTROL && (flags & INIT_MONITOR_ACCESS_ONLY)) {
        rc = ApiRequiresControlAccess;
        set_err(c, fn, rc, "handle has monitor access only");
    }
    if (rc)
        return cam_leave(c, rc);
    if (pgen)
        *pgen = gen;
    if (pflags)
        *pflags = flags;
    return ApiSuccess;
}

PXL_RETURN_CODE cam_leave(camera_t *c, PXL_RETURN_CODE rc)
{
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

/* ================================================================ error reports */

void set_err(camera_t *c, const char *fn, PXL_RETURN_CODE rc, const char *fmt, ...)
{
    if (rc >= 0)
        return;
    c->err.uReturnCode = rc;
    copy_str(c->err.strFunctionName, sizeof c->err.strFunctionName, fn);
    copy_str(c->err.strReturnCode, sizeof c->err.strReturnCode, rc_name(rc));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.strReport, sizeof c->err.strReport, fmt, ap);
    va_end(ap);
}

static void record_err_by_handle(HANDLE h, const char *fn, PXL_RETURN_CODE rc, const char *msg)
{
    pthread_mutex_lock(&g_mu);
    hrec_t *r = find_handle((U32)(uintptr_t)h);
    if (r && !r->cam->retired && r->gen == r->cam->gen) {
        pthread_mutex_lock(&r->cam->mu);
        set_err(r->cam, fn, rc, "%s", msg);
        pthread_mutex_unlock(&r->cam->mu);
    }
    pthread_mutex_unlock(&g_mu);
}

PXL_RETURN_CODE impl_GetErrorReport(HANDLE h, ERROR_REPORT *p)
{
    camera_t *c;
    PXL_RETURN_CODE rc = get_cam(h, &c, NULL, NULL);
    if (rc)
        return rc;
    if (!p) {
        put_cam(c);
        return ApiNullPointerError;
    }
    pthread_mutex_lock(&c->mu);
    memcpy(p, &c->err, sizeof *p); /* also after an unplug: the report says why calls failed */
    return cam_leave(c, ApiSuccess);
}

/* ================================================================ API entry: counting, latency, faults */

int api_enter(int fid, HANDLE h, int has_handle, inj_t *inj)
{
    ensure_init();
    inj->override = 0;
    inj->rc = 0;
    int lat, fail = 0;
    PXL_RETURN_CODE rc = 0;
    pthread_mutex_lock(&g_fmu);
    fstate_t *f = &g_f[fid];
    f->calls++;
    lat = f->latency_us;
    if (f->fail_count > 0) {
        f->fail_count--;
        rc = f->fail_rc;
        fail = 1;
    } else if (f->every_n > 0 && ++f->every_counter % f->every_n == 0) {
        rc = f->every_rc;
        fail = 1;
    }
    pthread_mutex_unlock(&g_fmu);
    if (lat > 0)
        sleep_us(lat);
    if (!fail)
        return 0;
    if (rc >= 0) { /* a success code: do the call, then report this code if it succeeded */
        inj->override = 1;
        inj->rc = rc;
        return 0;
    }
    if (has_handle)
        record_err_by_handle(h, fn_names[fid], rc, "fault injected by the emulator (PxLEmu_FailNext/FailEvery)");
    inj->rc = rc;
    return 1;
}

PXL_RETURN_CODE api_leave(const inj_t *inj, PXL_RETURN_CODE rc)
{
    return (inj->override && rc >= 0) ? inj->rc : rc;
}
