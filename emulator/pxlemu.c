/*
 * pxlemu.c - PixeLINK 4.0 API emulator (a test double of libPxLApi.so for Linux x86-64).
 *
 * Loaded by the UNMODIFIED pixelinkWrapper 1.5.0 in place of the vendor library.  Emulates
 * cameras (enumeration, features, streaming with realistic timing, a deterministic test
 * pattern, image formatting, disconnects) and offers fault injection through exported
 * PxLEmu_* functions and an optional Unix-domain control socket.
 *
 * Facts used: /work/shared/pixelink/SDK-ABI.md (signatures, layouts, codes, units).
 * Behaviour, profile and protocol: emulator/README.md.
 *
 * C11 + POSIX/GNU (pthreads, sockets).  No dependency beyond libc (no libm).
 *
 * Locking: g_mu protects the camera list, the handle list and per-camera refs/retired/
 * plugged/gen; each camera's mu protects everything else of that camera (plugged and gen
 * are written with both held).  Lock order: g_mu, then a camera's mu; never g_mu while
 * holding a camera mu.  A blocked PxLGetNextFrame waits on its camera's condition
 * variable (releasing mu), so it blocks neither other cameras nor control calls.  No lock
 * is held while calling a user callback.  g_fmu protects call counters and fault rules.
 */
#define _GNU_SOURCE
#include "pxlemu.h"

#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pxlemu_rcnames.h"

#define PXLAPI __attribute__((visibility("default")))

/* ================================================================ small helpers */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct timespec abs_time(double t)
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
static double rnd(double x) { return x >= 0 ? (double)(long long)(x + 0.5) : -(double)(long long)(-x + 0.5); }
static double flr(double x)
{
    double t = (double)(long long)x;
    return (t > x) ? t - 1.0 : t;
}
static int is_finite(float f) { return f == f && f - f == 0.0f; }
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
static double db_to_linear(double db) { return my_exp(db * 0.11512925464970229); /* ln(10)/20 */ }

static void copy_str(char *dst, size_t cap, const char *src)
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

#define PXL_FUNCS(X)                                                                               \
    X(PxLInitializeEx) X(PxLInitialize) X(PxLUninitialize) X(PxLGetNumberCamerasEx)                \
    X(PxLGetNumberCameras) X(PxLGetCameraInfoEx) X(PxLGetCameraInfo) X(PxLGetCameraFeatures)       \
    X(PxLGetFeature) X(PxLSetFeature) X(PxLSetStreamState) X(PxLGetStreamState)                    \
    X(PxLGetNextFrame) X(PxLFormatImage) X(PxLGetErrorReport) X(PxLGetCurrentTimestamp)            \
    X(PxLSetCallback) X(PxLSetEventCallback) X(PxLLoadSettings) X(PxLSaveSettings)                 \
    X(PxLSetCameraName) PXL_STUBS(X)

/* SDK-ABI.md 3.16: reachable through the wrapper, emulated as ApiNotSupportedError */
#define PXL_STUBS(X)                                                                               \
    X(PxLAssignController) X(PxLCreateDescriptor) X(PxLDecompressFrame) X(PxLFormatClipEx)         \
    X(PxLGetActions) X(PxLGetCameraXML) X(PxLGetClip) X(PxLGetEncodedClip)                         \
    X(PxLGetNextCompressedFrame) X(PxLGetNumberControllers) X(PxLPrivateCmd)                       \
    X(PxLRemoveDescriptor) X(PxLResetPreviewWindow) X(PxLSetActions) X(PxLSetCameraIpAddress)      \
    X(PxLSetFrameBufferPolicy) X(PxLSetPreviewSettings) X(PxLSetPreviewState)                      \
    X(PxLSetPreviewStateEx) X(PxLUnassignController) X(PxLUpdateDescriptor) X(PxLFormatClip)

#define X_ENUM(n) FN_##n,
enum { PXL_FUNCS(X_ENUM) FN_COUNT };
#define X_NAME(n) #n,
static const char *const fn_names[FN_COUNT] = {PXL_FUNCS(X_NAME)};

typedef struct {
    long long calls;
    int fail_rc, fail_count;
    int every_rc, every_n;
    long long every_counter;
    int latency_us;
} fstate_t;

static pthread_mutex_t g_fmu = PTHREAD_MUTEX_INITIALIZER;
static fstate_t g_f[FN_COUNT];

static int fn_index(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < FN_COUNT; i++)
        if (strcmp(fn_names[i], name) == 0)
            return i;
    return -1;
}

/* ================================================================ camera model */

#define MAXP 6
#define ROI_STEP 8
#define ROI_MIN 64
#define DEFAULT_WIDTH 2448
#define DEFAULT_HEIGHT 2048
#define DEFAULT_MODEL "PL-EMU-5MP"
#define NUM_FRAME_BUFFERS 4
#define REFERENCE_EXPOSURE 0.01 /* s: exposure at which the pattern has its nominal brightness */

typedef struct {
    U32 caps; /* capability flags (getCameraFeatures); 0 = not supported */
    U32 nparams;
    FEATURE_PARAM lim[MAXP];
    F32 factory[MAXP];
    U32 factory_mode; /* FEATURE_FLAG_MANUAL / _OFF / _AUTO */
} featdef_t;

typedef struct {
    F32 v[MAXP];
    U32 mode;
} featval_t;

typedef struct camera {
    struct camera *next;
    U32 serial;
    char model[33];
    char name[256];
    U32 width, height;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* g_mu */
    int refs;
    int retired;
    /* g_mu + mu for writing */
    int plugged;
    unsigned gen;
    /* mu */
    int boot_delay_ms;
    double boot_until;
    featdef_t def[FEATURES_TOTAL];
    featval_t cur[FEATURES_TOTAL];
    int has_user;
    featval_t user[FEATURES_TOTAL];
    double t0; /* power-up time (monotonic); camera clock = now - t0 */
    U32 stream_state;
    unsigned epoch; /* bumped on every stream state change / unplug: wakes grabs */
    double last_due;
    double fr_anchor_t, fr_period;
    U64 fr_anchor_k;
    U64 frame_seq;  /* sequence number of the last produced frame */
    U64 drop_total; /* frames "lost" by PxLEmu_DropFrames */
    U64 last_frame_number;
    unsigned long long hw_seq;
    double hw_time;
    int hw_waiters;
    ERROR_REPORT err;
} camera_t;

typedef U32 (*event_fn_t)(U32 hCamera, U32 eventId, double eventTimestamp, U32 numDataBytes, U8 *pData,
                          void *pContext);

typedef struct hrec {
    struct hrec *next;
    U32 id;
    camera_t *cam;
    unsigned gen;
    U32 flags;
    event_fn_t ev_fn;
    void *ev_ctx;
    U32 ev_id;
} hrec_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static camera_t *g_cams;
static camera_t *g_retired;
static hrec_t *g_handles;
static U32 g_next_handle = 0x1000;
static atomic_int g_freerun;
static atomic_int g_stamp = 1;
static atomic_int g_shutdown;
/* PXLEMU_CONFIG nosws=: bit i set = feature i loses SETTABLE_WHILE_STREAMING (models cameras that need a
 * stopped stream for it). Read by setup_features; g_mu held when written. */
static unsigned long long g_no_sws_mask;

/* canonical parameter counts (SDK-ABI.md 5.2), used for unsupported features too */
static const U8 canonical_nparams[FEATURES_TOTAL] = {
    1, 1, 1, 1, 1, 1, 1, 3, 1, 1, /*  0- 9 */
    1, 1, 5, 1, 1, 1, 1, 6, 1, 4, /* 10-19 */
    2, 4, 1, 5, 4, 1, 1, 3, 1, 1, /* 20-29 */
    1, 1, 1, 1, 1, 1, 5, 1, 1, 4, /* 30-39 */
    1, 4, 4, 2, 1, 1              /* 40-45 */
};

static const char *const feature_names[FEATURES_TOTAL] = {
    "BRIGHTNESS", "PIXELINK_RESERVED_1", "SHARPNESS", "COLOR_TEMP", "HUE", "SATURATION", "GAMMA",
    "SHUTTER", "GAIN", "IRIS", "FOCUS", "SENSOR_TEMPERATURE", "TRIGGER", "ZOOM", "PAN", "TILT",
    "OPT_FILTER", "GPIO", "FRAME_RATE", "ROI", "FLIP", "PIXEL_ADDRESSING", "PIXEL_FORMAT",
    "EXTENDED_SHUTTER", "AUTO_ROI", "LOOKUP_TABLE", "MEMORY_CHANNEL", "WHITE_SHADING", "ROTATE",
    "IMAGER_CLK_DIVISOR", "TRIGGER_WITH_CONTROLLED_LIGHT", "MAX_PIXEL_SIZE", "BODY_TEMPERATURE",
    "MAX_PACKET_SIZE", "BANDWIDTH_LIMIT", "ACTUAL_FRAME_RATE", "SHARPNESS_SCORE", "SPECIAL_CAMERA_MODE",
    "GAIN_HDR", "POLAR_WEIGHTINGS", "POLAR_HSV_INTERPRETATION", "PTP", "LIGHTING", "COMPRESSION",
    "SENSOR_CHIP_TEMPERATURE", "SENSOR_CHIP_TARGET_TEMPERATURE"};

static const U32 supported_pixel_formats[] = {PIXEL_FORMAT_MONO8, PIXEL_FORMAT_MONO16, PIXEL_FORMAT_BAYER8_RGGB,
                                              PIXEL_FORMAT_BAYER16_RGGB};

#define F_PRES FEATURE_FLAG_PRESENCE
#define F_MAN FEATURE_FLAG_MANUAL
#define F_AUTO FEATURE_FLAG_AUTO
#define F_ONE FEATURE_FLAG_ONEPUSH
#define F_OFF FEATURE_FLAG_OFF
#define F_RO FEATURE_FLAG_READ_ONLY
#define F_SWS FEATURE_FLAG_SETTABLE_WHILE_STREAMING
#define F_PERS FEATURE_FLAG_PERSISTABLE

static void defparam(featdef_t *d, int i, float mn, float mx, float dv)
{
    d->lim[i].fMinValue = mn;
    d->lim[i].fMaxValue = mx;
    d->factory[i] = dv;
}

static void setup_features(camera_t *c)
{
    featdef_t *d;
    memset(c->def, 0, sizeof c->def);
    for (int i = 0; i < FEATURES_TOTAL; i++)
        c->def[i].nparams = canonical_nparams[i];

    d = &c->def[FEATURE_BRIGHTNESS]; /* stored only; does not change the pattern */
    d->caps = F_PRES | F_MAN | F_SWS | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 0.0f, 100.0f, 0.0f);

    d = &c->def[FEATURE_GAMMA]; /* stored only */
    d->caps = F_PRES | F_MAN | F_OFF | F_SWS | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 0.1f, 4.0f, 1.0f);

    d = &c->def[FEATURE_SHUTTER]; /* seconds: VALUE, AUTO_MIN, AUTO_MAX */
    d->caps = F_PRES | F_MAN | F_AUTO | F_ONE | F_SWS | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 1e-5f, 10.0f, 0.01f);
    defparam(d, 1, 1e-5f, 10.0f, 1e-4f);
    defparam(d, 2, 1e-5f, 10.0f, 1.0f);

    d = &c->def[FEATURE_GAIN]; /* dB */
    d->caps = F_PRES | F_MAN | F_SWS | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 0.0f, 24.0f, 0.0f);

    d = &c->def[FEATURE_SENSOR_TEMPERATURE]; /* degrees C, read-only */
    d->caps = F_PRES | F_RO;
    d->factory_mode = F_MAN;
    defparam(d, 0, -40.0f, 100.0f, 40.0f);

    d = &c->def[FEATURE_TRIGGER]; /* MODE, TYPE, POLARITY, DELAY (s), PARAMETER */
    d->caps = F_PRES | F_MAN | F_OFF | F_PERS;
    d->factory_mode = F_OFF;
    defparam(d, 0, 0.0f, 14.0f, 0.0f);
    defparam(d, 1, 0.0f, 6.0f, 0.0f);
    defparam(d, 2, 0.0f, 1.0f, 0.0f);
    defparam(d, 3, 0.0f, 10.0f, 0.0f);
    defparam(d, 4, 0.0f, 1000.0f, 0.0f);

    d = &c->def[FEATURE_FRAME_RATE]; /* frames/s; OFF = as fast as exposure + readout allow */
    d->caps = F_PRES | F_MAN | F_OFF | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 1.0f, 300.0f, 30.0f);

    d = &c->def[FEATURE_ROI]; /* LEFT, TOP, WIDTH, HEIGHT in sensor pixels, step 8 */
    d->caps = F_PRES | F_MAN | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 0.0f, (float)(c->width - ROI_MIN), 0.0f);
    defparam(d, 1, 0.0f, (float)(c->height - ROI_MIN), 0.0f);
    defparam(d, 2, (float)ROI_MIN, (float)c->width, (float)c->width);
    defparam(d, 3, (float)ROI_MIN, (float)c->height, (float)c->height);

    d = &c->def[FEATURE_PIXEL_ADDRESSING]; /* VALUE {1,2,4}, MODE {0,1,2}, X_VALUE, Y_VALUE */
    d->caps = F_PRES | F_MAN | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 1.0f, 4.0f, 1.0f);
    defparam(d, 1, 0.0f, 2.0f, 0.0f);
    defparam(d, 2, 1.0f, 4.0f, 1.0f);
    defparam(d, 3, 1.0f, 4.0f, 1.0f);

    d = &c->def[FEATURE_PIXEL_FORMAT];
    d->caps = F_PRES | F_MAN | F_PERS;
    d->factory_mode = F_MAN;
    defparam(d, 0, 0.0f, (float)PIXEL_FORMAT_BAYER16_RGGB, (float)PIXEL_FORMAT_MONO8);

    d = &c->def[FEATURE_MAX_PIXEL_SIZE];
    d->caps = F_PRES | F_RO;
    d->factory_mode = F_MAN;
    defparam(d, 0, 12.0f, 12.0f, 12.0f);

    d = &c->def[FEATURE_ACTUAL_FRAME_RATE]; /* computed on read */
    d->caps = F_PRES | F_RO;
    d->factory_mode = F_MAN;
    defparam(d, 0, 0.0f, 100000.0f, 0.0f);

    for (int i = 0; i < FEATURES_TOTAL; i++)
        if (g_no_sws_mask & (1ULL << i))
            c->def[i].caps &= ~(U32)F_SWS;
}

static void load_factory(camera_t *c, featval_t *dst)
{
    for (int i = 0; i < FEATURES_TOTAL; i++) {
        memset(&dst[i], 0, sizeof dst[i]);
        for (U32 p = 0; p < MAXP; p++)
            dst[i].v[p] = c->def[i].factory[p];
        dst[i].mode = c->def[i].factory_mode ? c->def[i].factory_mode : F_MAN;
    }
}

static void reset_stream_timing(camera_t *c)
{
    c->last_due = -1.0;
    c->fr_period = 0.0;
}

/* c->mu held (or camera not yet shared) */
static void power_up(camera_t *c)
{
    load_factory(c, c->cur);
    if (c->has_user)
        for (int i = 0; i < FEATURES_TOTAL; i++)
            if (c->def[i].caps & F_PERS)
                c->cur[i] = c->user[i];
    c->stream_state = STREAM_STOP;
    c->epoch++;
    reset_stream_timing(c);
    c->frame_seq = 0;
    c->drop_total = 0;
    c->last_frame_number = 0;
    c->t0 = mono_now();
    c->boot_until = c->t0 + c->boot_delay_ms / 1000.0;
    memset(&c->err, 0, sizeof c->err);
}

/* Stop the camera's stream (if running) and wake any grab waiting on it. Takes c->mu. */
static void stop_stream(camera_t *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->stream_state != STREAM_STOP) {
        c->stream_state = STREAM_STOP;
        c->epoch++;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

static camera_t *cam_new(U32 serial, const char *model, U32 w, U32 h)
{
    camera_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->mu, NULL);
    c->serial = serial;
    copy_str(c->model, sizeof c->model, model && *model ? model : DEFAULT_MODEL);
    snprintf(c->name, sizeof c->name, "PxLEmu %u", serial);
    c->width = w;
    c->height = h;
    c->plugged = 1;
    c->gen = 1;
    setup_features(c);
    power_up(c);
    return c;
}

static void cam_free(camera_t *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* g_mu held */
static camera_t *find_cam(U32 serial)
{
    for (camera_t *c = g_cams; c; c = c->next)
        if (c->serial == serial)
            return c;
    return NULL;
}

static hrec_t *find_handle(U32 id)
{
    for (hrec_t *r = g_handles; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static int valid_geometry(U32 w, U32 h)
{
    return w >= ROI_MIN && h >= ROI_MIN && w % ROI_STEP == 0 && h % ROI_STEP == 0 && w <= 65536 && h <= 65536;
}

/* g_mu held */
static int add_camera_locked(U32 serial, const char *model, U32 w, U32 h)
{
    if (serial == 0 || !valid_geometry(w, h) || find_cam(serial))
        return -2;
    camera_t *c = cam_new(serial, model, w, h);
    if (!c)
        return -2;
    camera_t **pp = &g_cams;
    while (*pp)
        pp = &(*pp)->next;
    *pp = c;
    return 0;
}

/* "7,8" -> bits 7 and 8; ids outside 0..FEATURES_TOTAL-1 are reported and ignored */
static void parse_feature_mask(const char *val, unsigned long long *mask)
{
    char buf[256];
    copy_str(buf, sizeof buf, val);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *end = NULL;
        long id = strtol(tok, &end, 10);
        if (*end || id < 0 || id >= FEATURES_TOTAL)
            fprintf(stderr, "pxlemu: PXLEMU_CONFIG: nosws: ignoring feature id '%s'\n", tok);
        else
            *mask |= 1ULL << id;
    }
}

/* PXLEMU_CONFIG: "cameras=700000001,700000002:1280x1024;width=2448;height=2048;model=X;stamp=1;freerun=0;nosws=7,8"
 * g_mu held. */
static void load_profile_locked(void)
{
    U32 width = DEFAULT_WIDTH, height = DEFAULT_HEIGHT;
    char model[33];
    char cams[512] = "700000001,700000002";
    copy_str(model, sizeof model, DEFAULT_MODEL);
    g_stamp = 1;
    g_freerun = 0;
    g_no_sws_mask = 0;
    const char *env = getenv("PXLEMU_CONFIG");
    if (env && *env) {
        char buf[1024];
        copy_str(buf, sizeof buf, env);
        char *save = NULL;
        for (char *item = strtok_r(buf, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
            while (*item == ' ')
                item++;
            char *eq = strchr(item, '=');
            if (!eq) {
                if (*item)
                    fprintf(stderr, "pxlemu: PXLEMU_CONFIG: ignoring '%s'\n", item);
                continue;
            }
            *eq = 0;
            const char *key = item, *val = eq + 1;
            if (!strcmp(key, "cameras"))
                copy_str(cams, sizeof cams, val);
            else if (!strcmp(key, "width"))
                width = (U32)strtoul(val, NULL, 10);
            else if (!strcmp(key, "height"))
                height = (U32)strtoul(val, NULL, 10);
            else if (!strcmp(key, "model"))
                copy_str(model, sizeof model, val);
            else if (!strcmp(key, "stamp"))
                g_stamp = atoi(val) != 0;
            else if (!strcmp(key, "freerun"))
                g_freerun = atoi(val) != 0;
            else if (!strcmp(key, "nosws"))
                parse_feature_mask(val, &g_no_sws_mask);
            else
                fprintf(stderr, "pxlemu: PXLEMU_CONFIG: unknown key '%s'\n", key);
        }
        if (!valid_geometry(width, height)) {
            fprintf(stderr, "pxlemu: PXLEMU_CONFIG: bad sensor size %ux%u (multiples of 8, >= 64); using %ux%u\n",
                    width, height, DEFAULT_WIDTH, DEFAULT_HEIGHT);
            width = DEFAULT_WIDTH;
            height = DEFAULT_HEIGHT;
        }
    }
    char *save = NULL;
    for (char *tok = strtok_r(cams, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        U32 w = width, h = height;
        char *colon = strchr(tok, ':');
        if (colon) {
            *colon = 0;
            if (sscanf(colon + 1, "%ux%u", &w, &h) != 2) {
                w = width;
                h = height;
            }
        }
        U32 serial = (U32)strtoul(tok, NULL, 10);
        if (add_camera_locked(serial, model, w, h) != 0)
            fprintf(stderr, "pxlemu: PXLEMU_CONFIG: cannot add camera '%s' (%ux%u)\n", tok, w, h);
    }
}

/* ================================================================ error reports */

/* c->mu held */
static void set_err(camera_t *c, const char *fn, PXL_RETURN_CODE rc, const char *fmt, ...)
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

/* ================================================================ init / teardown / control socket */

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

static void ensure_init(void) { pthread_once(&g_once, do_init); }

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
        if (pfd[0].revents & POLLIN) {
            int cfd = accept4(g_listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0) {
                int slot = -1;
                for (int i = 0; i < MAX_CLIENTS; i++)
                    if (fds[i] < 0) {
                        slot = i;
                        break;
                    }
                if (slot < 0) {
                    static const char msg[] = "err too many clients\n";
                    (void)!send(cfd, msg, sizeof msg - 1, MSG_NOSIGNAL);
                    close(cfd);
                } else {
                    fds[slot] = cfd;
                    lens[slot] = 0;
                }
            }
        }
        for (int k = 1; k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int i = map[k];
            ssize_t got = recv(fds[i], bufs[i] + lens[i], CLIENT_BUF - 1 - lens[i], 0);
            if (got <= 0) {
                close(fds[i]);
                fds[i] = -1;
                continue;
            }
            lens[i] += (size_t)got;
            char *start = bufs[i];
            char *nl;
            while ((nl = memchr(start, '\n', (size_t)(bufs[i] + lens[i] - start))) != NULL) {
                *nl = 0;
                char reply[512];
                PxLEmu_Command(start, reply, (int)sizeof reply - 1);
                size_t rl = strlen(reply);
                reply[rl++] = '\n';
                size_t off = 0;
                while (off < rl) {
                    ssize_t w = send(fds[i], reply + off, rl - off, MSG_NOSIGNAL);
                    if (w <= 0)
                        break;
                    off += (size_t)w;
                }
                start = nl + 1;
            }
            size_t rest = (size_t)(bufs[i] + lens[i] - start);
            memmove(bufs[i], start, rest);
            lens[i] = rest;
            if (lens[i] >= CLIENT_BUF - 1) { /* line too long */
                static const char msg[] = "err line too long\n";
                (void)!send(fds[i], msg, sizeof msg - 1, MSG_NOSIGNAL);
                lens[i] = 0;
            }
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

/* ================================================================ API entry: counting, latency, faults */

typedef struct {
    int override;
    PXL_RETURN_CODE rc;
} inj_t;

static int api_enter(int fid, HANDLE h, int has_handle, inj_t *inj)
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

static PXL_RETURN_CODE api_leave(const inj_t *inj, PXL_RETURN_CODE rc)
{
    return (inj->override && rc >= 0) ? inj->rc : rc;
}

#define API_ENTER(name, h, has_h)                                                                  \
    inj_t inj_;                                                                                    \
    if (api_enter(FN_##name, (h), (has_h), &inj_))                                                 \
    return inj_.rc
#define API_LEAVE(rc) api_leave(&inj_, (rc))

/* ================================================================ handle -> camera */

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

static void put_cam(camera_t *c)
{
    pthread_mutex_lock(&g_mu);
    c->refs--;
    pthread_mutex_unlock(&g_mu);
}

/* c->mu held: ApiInvalidHandleError if replugged/reset since the handle was made, ApiNoCameraError if unplugged */
static PXL_RETURN_CODE alive(camera_t *c, unsigned gen)
{
    if (c->retired || c->gen != gen)
        return ApiInvalidHandleError;
    if (!c->plugged)
        return ApiNoCameraError;
    return ApiSuccess;
}

#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        rc = (code);                                                                               \
        set_err(c, FN, rc, __VA_ARGS__);                                                           \
        goto out;                                                                                  \
    } while (0)

#define CHECK_ALIVE()                                                                              \
    do {                                                                                           \
        rc = alive(c, gen);                                                                        \
        if (rc == ApiNoCameraError)                                                                \
            FAIL(rc, "camera %u has been disconnected", c->serial);                                \
        if (rc)                                                                                    \
            goto out;                                                                              \
    } while (0)

/* ================================================================ geometry and timing */

typedef struct {
    U32 left, top, width, height; /* sensor pixels */
    U32 pa, pa_mode, pf;
    U32 out_w, out_h, bpp;
} geom_t;

static int pf_is_bayer(U32 pf)
{
    return pf == 3 || pf == 4 || (pf >= 7 && pf <= 12);
}
static int pf_bpp(U32 pf)
{
    switch (pf) {
    case PIXEL_FORMAT_MONO8: case 3: case 7: case 8: case 9: return 1;
    case PIXEL_FORMAT_MONO16: case 4: case 10: case 11: case 12: return 2;
    default: return 0;
    }
}
/* colour of the CFA cell position (x&1, y&1): 0 R, 1 G, 2 B */
static int cfa_colour(U32 pf, U32 x, U32 y)
{
    static const U8 rggb[2][2] = {{0, 1}, {1, 2}}, grbg[2][2] = {{1, 0}, {2, 1}},
                    gbrg[2][2] = {{1, 2}, {0, 1}}, bggr[2][2] = {{2, 1}, {1, 0}};
    x &= 1;
    y &= 1;
    switch (pf) {
    case 7: case 10: return rggb[y][x];
    case 3: case 4: return grbg[y][x];
    case 8: case 11: return gbrg[y][x];
    default: return bggr[y][x];
    }
}

static geom_t geometry(const camera_t *c)
{
    geom_t g;
    g.left = (U32)c->cur[FEATURE_ROI].v[0];
    g.top = (U32)c->cur[FEATURE_ROI].v[1];
    g.width = (U32)c->cur[FEATURE_ROI].v[2];
    g.height = (U32)c->cur[FEATURE_ROI].v[3];
    g.pa = (U32)c->cur[FEATURE_PIXEL_ADDRESSING].v[0];
    if (g.pa < 1)
        g.pa = 1;
    g.pa_mode = (U32)c->cur[FEATURE_PIXEL_ADDRESSING].v[1];
    g.pf = (U32)c->cur[FEATURE_PIXEL_FORMAT].v[0];
    g.out_w = g.width / g.pa;
    g.out_h = g.height / g.pa;
    g.bpp = (U32)pf_bpp(g.pf);
    return g;
}

static double auto_exposure(const camera_t *c)
{
    double e = REFERENCE_EXPOSURE / db_to_linear(c->cur[FEATURE_GAIN].v[0]);
    double lo = c->cur[FEATURE_SHUTTER].v[1], hi = c->cur[FEATURE_SHUTTER].v[2];
    if (e < lo)
        e = lo;
    if (e > hi)
        e = hi;
    return (double)(float)(rnd(e * 1e6) / 1e6);
}

static double effective_exposure(const camera_t *c)
{
    if (c->cur[FEATURE_SHUTTER].mode == F_AUTO)
        return auto_exposure(c);
    return c->cur[FEATURE_SHUTTER].v[0];
}

static double readout_time(const geom_t *g) { return 0.001 + (double)g->out_h * 1e-6; }

static double frame_period(const camera_t *c, const geom_t *g)
{
    double p = effective_exposure(c) + readout_time(g);
    if (c->cur[FEATURE_FRAME_RATE].mode != F_OFF) {
        double fps = c->cur[FEATURE_FRAME_RATE].v[0];
        if (fps > 0 && 1.0 / fps > p)
            p = 1.0 / fps;
    }
    return p;
}

/* 0 free running, 1 software trigger, 2 hardware (any other trigger type) */
static int trigger_kind(const camera_t *c)
{
    if (c->cur[FEATURE_TRIGGER].mode == F_OFF)
        return 0;
    int type = (int)c->cur[FEATURE_TRIGGER].v[1];
    return type == 0 ? 0 : type == 1 ? 1 : 2;
}

/* ================================================================ PxLInitializeEx / PxLUninitialize */

/* g_mu held */
static int has_controller(const camera_t *c)
{
    for (hrec_t *r = g_handles; r; r = r->next)
        if (r->cam == c && r->gen == c->gen && !(r->flags & INIT_MONITOR_ACCESS_ONLY))
            return 1;
    return 0;
}

static PXL_RETURN_CODE impl_Initialize(U32 serial, HANDLE *ph, U32 flags)
{
    if (!ph)
        return ApiNullPointerError;
    PXL_RETURN_CODE rc = ApiSuccess;
    camera_t *c = NULL;
    int monitor = (flags & INIT_MONITOR_ACCESS_ONLY) != 0;
    pthread_mutex_lock(&g_mu);
    double now = mono_now();
    if (serial == 0) {
        int any = 0, busy = 0, booting = 0;
        for (camera_t *x = g_cams; x; x = x->next) {
            if (!x->plugged)
                continue;
            any = 1;
            if (now < x->boot_until) {
                booting = 1;
                continue;
            }
            if (!monitor && has_controller(x)) {
                busy = 1;
                continue;
            }
            c = x;
            break;
        }
        if (!c)
            rc = !any ? ApiNoCameraAvailableError : booting ? ApiNoCameraError
                 : busy ? ApiCameraInUseError : ApiNoCameraAvailableError;
    } else {
        c = find_cam(serial);
        if (!c)
            rc = ApiInvalidSerialNumberError;
        else if (!c->plugged || now < c->boot_until)
            rc = ApiNoCameraError;
        else if (!monitor && has_controller(c))
            rc = ApiCameraInUseError;
        if (rc)
            c = NULL;
    }
    if (c) {
        hrec_t *r = calloc(1, sizeof *r);
        if (!r) {
            rc = ApiOutOfMemoryError;
        } else {
            r->id = g_next_handle++;
            if (g_next_handle >= 0x7FFFFFF0u)
                g_next_handle = 0x1000;
            r->cam = c;
            r->gen = c->gen;
            r->flags = flags;
            r->next = g_handles;
            g_handles = r;
            if ((flags & INIT_ISSUE_STREAM_STOP) && !monitor)
                stop_stream(c);
            *ph = (HANDLE)(uintptr_t)r->id;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static PXL_RETURN_CODE impl_Uninitialize(HANDLE h)
{
    U32 id = (U32)(uintptr_t)h;
    pthread_mutex_lock(&g_mu);
    hrec_t **pp = &g_handles;
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    hrec_t *r = *pp;
    if (!r) {
        pthread_mutex_unlock(&g_mu);
        return ApiInvalidHandleError;
    }
    camera_t *c = r->cam;
    int stale = c->retired || r->gen != c->gen;
    *pp = r->next;
    if (!stale && !(r->flags & INIT_MONITOR_ACCESS_ONLY))
        stop_stream(c);
    pthread_mutex_unlock(&g_mu);
    free(r);
    return stale ? ApiInvalidHandleError : ApiSuccess;
}

/* ================================================================ enumeration, camera info */

static PXL_RETURN_CODE impl_GetNumberCamerasEx(CAMERA_ID_INFO *p, U32 *pn)
{
    if (!pn)
        return ApiNullPointerError;
    PXL_RETURN_CODE rc = ApiSuccess;
    pthread_mutex_lock(&g_mu);
    U32 count = 0;
    for (camera_t *c = g_cams; c; c = c->next)
        count += c->plugged ? 1 : 0;
    if (!p) {
        *pn = count;
    } else {
        U32 stride = p[0].StructSize;
        if (stride < 8)
            rc = ApiInvalidParameterError;
        else if (*pn < count) {
            *pn = count;
            rc = ApiBufferTooSmall;
        } else {
            U32 i = 0;
            for (camera_t *c = g_cams; c; c = c->next) {
                if (!c->plugged)
                    continue;
                CAMERA_ID_INFO info;
                memset(&info, 0, sizeof info);
                info.StructSize = stride;
                info.CameraSerialNum = c->serial;
                info.CameraLinkSpeed = 5000;
                memcpy((char *)p + (size_t)i * stride, &info, stride < sizeof info ? stride : sizeof info);
                i++;
            }
            *pn = count;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static PXL_RETURN_CODE impl_GetNumberCameras(U32 *pSerials, U32 *pn)
{
    if (!pn)
        return ApiNullPointerError;
    PXL_RETURN_CODE rc = ApiSuccess;
    pthread_mutex_lock(&g_mu);
    U32 count = 0;
    for (camera_t *c = g_cams; c; c = c->next)
        count += c->plugged ? 1 : 0;
    if (pSerials && *pn < count)
        rc = ApiBufferTooSmall;
    else if (pSerials) {
        U32 i = 0;
        for (camera_t *c = g_cams; c; c = c->next)
            if (c->plugged)
                pSerials[i++] = c->serial;
    }
    *pn = count;
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static PXL_RETURN_CODE impl_GetCameraInfo(HANDLE h, CAMERA_INFO *p, U32 size, const char *FN)
{
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (!p)
        FAIL(ApiNullPointerError, "pInformation is NULL");
    if (size == 0)
        FAIL(ApiInvalidParameterError, "informationSize is 0");
    CAMERA_INFO info;
    memset(&info, 0, sizeof info);
    copy_str(info.VendorName, sizeof info.VendorName, "PixeLINK");
    copy_str(info.ModelName, sizeof info.ModelName, c->model);
    snprintf(info.Description, sizeof info.Description, "PixeLINK SDK emulator (pxlemu), %ux%u mono sensor",
             c->width, c->height);
    snprintf(info.SerialNumber, sizeof info.SerialNumber, "%u", c->serial);
    copy_str(info.FirmwareVersion, sizeof info.FirmwareVersion, "1.0.0");
    copy_str(info.FPGAVersion, sizeof info.FPGAVersion, "1.0.0");
    copy_str(info.CameraName, sizeof info.CameraName, c->name);
    copy_str(info.XMLVersion, sizeof info.XMLVersion, "1.0.0");
    copy_str(info.BootloadVersion, sizeof info.BootloadVersion, "1.0.0");
    copy_str(info.LensDescription, sizeof info.LensDescription, "");
    memcpy(p, &info, size < sizeof info ? size : sizeof info);
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

static PXL_RETURN_CODE impl_SetCameraName(HANDLE h, const char *name)
{
    static const char FN[] = "PxLSetCameraName";
    camera_t *c;
    unsigned gen;
    U32 hflags;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, &hflags);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (hflags & INIT_MONITOR_ACCESS_ONLY)
        FAIL(ApiRequiresControlAccess, "handle has monitor access only");
    if (!name)
        FAIL(ApiNullPointerError, "name is NULL");
    if (strlen(name) >= sizeof c->name)
        FAIL(ApiInvalidCameraName, "camera name longer than %zu characters", sizeof c->name - 1);
    copy_str(c->name, sizeof c->name, name);
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

/* ================================================================ features */

/* current value of feature id (c->mu held); computed features filled here */
static void feature_values(const camera_t *c, U32 id, F32 *out)
{
    memcpy(out, c->cur[id].v, sizeof c->cur[id].v);
    if (id == FEATURE_SHUTTER && c->cur[id].mode == F_AUTO)
        out[0] = (F32)auto_exposure(c);
    if (id == FEATURE_ACTUAL_FRAME_RATE) {
        geom_t g = geometry(c);
        out[0] = (F32)(1.0 / frame_period(c, &g));
    }
}

static PXL_RETURN_CODE impl_GetCameraFeatures(HANDLE h, U32 id, CAMERA_FEATURES *p, U32 *psize)
{
    static const char FN[] = "PxLGetCameraFeatures";
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (!psize)
        FAIL(ApiNullPointerError, "pBufferSize is NULL");
    if (id != FEATURE_ALL && id >= FEATURES_TOTAL)
        FAIL(ApiInvalidParameterError, "unknown feature id %u", id);
    U32 first = id == FEATURE_ALL ? 0 : id, last = id == FEATURE_ALL ? FEATURES_TOTAL - 1 : id;
    U32 nf = last - first + 1, np = 0;
    for (U32 i = first; i <= last; i++)
        np += c->def[i].nparams;
    size_t need = sizeof(CAMERA_FEATURES) + nf * sizeof(CAMERA_FEATURE) + np * sizeof(FEATURE_PARAM);
    if (!p) {
        *psize = (U32)need;
        goto out;
    }
    if (*psize < need) {
        U32 given = *psize;
        *psize = (U32)need;
        FAIL(ApiBufferTooSmall, "buffer of %u bytes is smaller than the %zu bytes needed", given, need);
    }
    memset(p, 0, need);
    CAMERA_FEATURE *feats = (CAMERA_FEATURE *)((char *)p + sizeof(CAMERA_FEATURES));
    FEATURE_PARAM *prm = (FEATURE_PARAM *)((char *)feats + nf * sizeof(CAMERA_FEATURE));
    for (U32 i = first; i <= last; i++) {
        CAMERA_FEATURE *f = &feats[i - first];
        const featdef_t *d = &c->def[i];
        f->uFeatureId = i;
        f->uFlags = d->caps;
        f->uNumberOfParameters = d->nparams;
        f->pParams = prm;
        if (d->caps)
            memcpy(prm, d->lim, d->nparams * sizeof(FEATURE_PARAM));
        prm += d->nparams;
    }
    p->uSize = (U32)need;
    p->uNumberOfFeatures = nf;
    p->pFeatures = feats;
    *psize = (U32)need;
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

static PXL_RETURN_CODE impl_GetFeature(HANDLE h, U32 id, U32 *pFlags, U32 *pN, F32 *pParams)
{
    static const char FN[] = "PxLGetFeature";
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (!pFlags || !pN)
        FAIL(ApiNullPointerError, "pFlags or pNumberOfParams is NULL");
    if (id >= FEATURES_TOTAL || !(c->def[id].caps & F_PRES))
        FAIL(ApiNotSupportedError, "feature %u (%s) is not supported by this camera", id,
             id < FEATURES_TOTAL ? feature_names[id] : "unknown");
    U32 n = c->def[id].nparams;
    *pFlags = F_PRES | c->cur[id].mode;
    if (!pParams) {
        *pN = n;
        goto out;
    }
    if (*pN < n) {
        U32 given = *pN;
        *pN = n;
        FAIL(ApiBufferTooSmall, "%s has %u parameters, room for %u given", feature_names[id], n, given);
    }
    F32 vals[MAXP];
    feature_values(c, id, vals);
    memcpy(pParams, vals, n * sizeof(F32));
    *pN = n;
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

static int pf_supported(U32 pf)
{
    for (size_t i = 0; i < sizeof supported_pixel_formats / sizeof supported_pixel_formats[0]; i++)
        if (supported_pixel_formats[i] == pf)
            return 1;
    return 0;
}

static float snap(float v, int step) { return (float)(rnd((double)v / step) * step); }

static PXL_RETURN_CODE impl_SetFeature(HANDLE h, U32 id, U32 flags, U32 n, const F32 *p)
{
    static const char FN[] = "PxLSetFeature";
    camera_t *c;
    unsigned gen;
    U32 hflags;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, &hflags);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (id >= FEATURES_TOTAL || !(c->def[id].caps & F_PRES))
        FAIL(ApiNotSupportedError, "feature %u (%s) is not supported by this camera", id,
             id < FEATURES_TOTAL ? feature_names[id] : "unknown");
    const featdef_t *d = &c->def[id];
    const char *fname = feature_names[id];
    if (d->caps & F_RO)
        FAIL(ApiNotSupportedError, "%s is read-only", fname);
    if (hflags & INIT_MONITOR_ACCESS_ONLY)
        FAIL(ApiRequiresControlAccess, "handle has monitor access only");
    if (c->stream_state == STREAM_START && !(d->caps & F_SWS))
        FAIL(ApiNotPermittedWhileStreaming, "%s cannot be changed while streaming; stop the stream first", fname);
    U32 mode = flags & FEATURE_FLAG_MOD_BITS;
    if (mode == 0)
        mode = F_MAN;
    if (mode & (mode - 1))
        FAIL(ApiInvalidParameterError, "more than one mode flag (0x%x) given for %s", mode, fname);
    if (!(d->caps & mode))
        FAIL(ApiInvalidParameterError, "%s does not support mode flag 0x%x", fname, mode);
    if (n > d->nparams)
        FAIL(ApiInvalidParameterError, "%s has %u parameters, %u given", fname, d->nparams, n);
    if (n > 0 && !p)
        FAIL(ApiNullPointerError, "pParams is NULL");
    if (n == 0 && mode == F_MAN)
        FAIL(ApiInvalidParameterError, "no parameter given for %s", fname);
    F32 v[MAXP];
    memcpy(v, c->cur[id].v, sizeof v);
    for (U32 i = 0; i < n; i++) {
        if (!is_finite(p[i]))
            FAIL(ApiInvalidParameterError, "%s parameter %u is not a finite number", fname, i);
        if (p[i] < d->lim[i].fMinValue || p[i] > d->lim[i].fMaxValue)
            FAIL(ApiOutOfRangeError, "%s parameter %u = %g is out of range [%g, %g]", fname, i, (double)p[i],
                 (double)d->lim[i].fMinValue, (double)d->lim[i].fMaxValue);
        v[i] = p[i];
    }
    int changed = 0;
    switch (id) {
    case FEATURE_SHUTTER: {
        for (U32 i = 0; i < n; i++) { /* the sensor's exposure resolution is 1 us */
            float q = (float)(rnd((double)v[i] * 1e6) / 1e6);
            if (q < d->lim[i].fMinValue)
                q = d->lim[i].fMinValue;
            if (q != v[i])
                changed = 1;
            v[i] = q;
        }
        if (v[1] > v[2])
            FAIL(ApiInvalidParameterError, "SHUTTER AUTO_MIN %g is greater than AUTO_MAX %g", (double)v[1],
                 (double)v[2]);
        break;
    }
    case FEATURE_GAIN: { /* 0.1 dB steps */
        float q = (float)(rnd((double)v[0] * 10.0) / 10.0);
        if (n >= 1 && q != v[0])
            changed = 1;
        v[0] = q;
        break;
    }
    case FEATURE_TRIGGER: {
        for (U32 i = 0; i < 3 && i < n; i++) {
            float q = (float)rnd(v[i]);
            if (q != v[i])
                changed = 1;
            v[i] = q;
        }
        int m = (int)v[0];
        if (!(m <= 5 || m == 14))
            FAIL(ApiInvalidParameterError, "unsupported TRIGGER mode %d (0-5 or 14)", m);
        break;
    }
    case FEATURE_ROI: {
        for (U32 i = 0; i < n; i++) {
            float q = snap(v[i], ROI_STEP);
            if (q != v[i])
                changed = 1;
            v[i] = q;
        }
        if (v[2] < ROI_MIN)
            v[2] = ROI_MIN;
        if (v[3] < ROI_MIN)
            v[3] = ROI_MIN;
        if (v[0] < 0 || v[1] < 0 || v[0] + v[2] > (float)c->width || v[1] + v[3] > (float)c->height)
            FAIL(ApiOutOfRangeError, "ROI %gx%g at (%g,%g) does not fit the %ux%u sensor", (double)v[2], (double)v[3],
                 (double)v[0], (double)v[1], c->width, c->height);
        break;
    }
    case FEATURE_PIXEL_ADDRESSING: {
        float val = (float)rnd(v[0]), m = (float)rnd(v[1]);
        if (val != v[0] || m != v[1])
            changed = 1;
        if (!(val == 1 || val == 2 || val == 4))
            FAIL(ApiInvalidParameterError, "unsupported PIXEL_ADDRESSING value %g (1, 2 or 4)", (double)val);
        /* only symmetric addressing is emulated: X_VALUE = Y_VALUE = VALUE */
        if ((n >= 3 && v[2] != val) || (n >= 4 && v[3] != val))
            changed = 1;
        v[0] = val;
        v[1] = m;
        v[2] = val;
        v[3] = val;
        break;
    }
    case FEATURE_PIXEL_FORMAT: {
        float q = (float)rnd(v[0]);
        if (q != v[0])
            changed = 1;
        if (!pf_supported((U32)q))
            FAIL(ApiInvalidParameterError, "pixel format %g is not supported (0 MONO8, 1 MONO16, 7 BAYER8_RGGB, "
                                           "10 BAYER16_RGGB)", (double)q);
        v[0] = q;
        break;
    }
    default:
        break;
    }
    if (mode == F_ONE) { /* one-time auto exposure: completes at once */
        memcpy(c->cur[id].v, v, sizeof v);
        c->cur[id].v[0] = (F32)auto_exposure(c);
        c->cur[id].mode = F_MAN;
    } else {
        memcpy(c->cur[id].v, v, sizeof v);
        c->cur[id].mode = mode;
    }
    rc = changed ? ApiSuccessParametersChanged : ApiSuccess;
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

/* ================================================================ streaming */

static PXL_RETURN_CODE impl_SetStreamState(HANDLE h, U32 state)
{
    static const char FN[] = "PxLSetStreamState";
    camera_t *c;
    unsigned gen;
    U32 hflags;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, &hflags);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (state > STREAM_STOP)
        FAIL(ApiInvalidParameterError, "invalid stream state %u (0 START, 1 PAUSE, 2 STOP)", state);
    if (hflags & INIT_MONITOR_ACCESS_ONLY)
        FAIL(ApiRequiresControlAccess, "handle has monitor access only");
    if (state == c->stream_state) {
        rc = state == STREAM_START ? ApiSuccessAlreadyRunning : ApiSuccess;
        goto out;
    }
    c->stream_state = state;
    c->epoch++;
    if (state == STREAM_START)
        reset_stream_timing(c);
    pthread_cond_broadcast(&c->cv);
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

static PXL_RETURN_CODE impl_GetStreamState(HANDLE h, U32 *pState, U32 *pNumBuffers)
{
    static const char FN[] = "PxLGetStreamState";
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (!pState)
        FAIL(ApiNullPointerError, "pStreamState is NULL");
    *pState = c->stream_state;
    if (pNumBuffers)
        *pNumBuffers = NUM_FRAME_BUFFERS;
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

typedef struct {
    geom_t g;
    double exposure, gain_db, temperature, fps_setting, actual_fps, frame_time;
    int fps_off;
    U64 number;
    F32 trigger[5];
} frame_info_t;

static void render_frame(U8 *dst, const frame_info_t *fi)
{
    const geom_t *g = &fi->g;
    double scale = fi->exposure / REFERENCE_EXPOSURE * db_to_linear(fi->gain_db);
    static const double cf[3] = {1.0, 0.5, 0.25}; /* R, G, B response of the emulated CFA */
    uint16_t lut[3][256];
    U8 lut8[3][256];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 256; i++) {
            double v = i * 16.0 * scale * cf[k] + 0.5;
            U32 q = v >= 4095.0 ? 4095u : (U32)v; /* 12-bit sensor value */
            lut[k][i] = (uint16_t)(q << 4);        /* MSB-aligned 16-bit */
            lut8[k][i] = (U8)(q >> 4);
        }
    U32 shift = (U32)(fi->number & 255u);
    int bayer = pf_is_bayer(g->pf);
    for (U32 y = 0; y < g->out_h; y++) {
        U32 sy = g->top + y * g->pa;
        U32 base = g->left + sy + shift;
        U8 *row = dst + (size_t)y * g->out_w * g->bpp;
        if (!bayer) {
            if (g->bpp == 1) {
                for (U32 x = 0; x < g->out_w; x++)
                    row[x] = lut8[0][(base + x * g->pa) & 255u];
            } else {
                for (U32 x = 0; x < g->out_w; x++) {
                    uint16_t v = lut[0][(base + x * g->pa) & 255u];
                    row[2 * x] = (U8)(v >> 8); /* big-endian */
                    row[2 * x + 1] = (U8)v;
                }
            }
        } else {
            int c0 = cfa_colour(g->pf, 0, y), c1 = cfa_colour(g->pf, 1, y);
            if (g->bpp == 1) {
                for (U32 x = 0; x < g->out_w; x++)
                    row[x] = lut8[(x & 1) ? c1 : c0][(base + x * g->pa) & 255u];
            } else {
                for (U32 x = 0; x < g->out_w; x++) {
                    uint16_t v = lut[(x & 1) ? c1 : c0][(base + x * g->pa) & 255u];
                    row[2 * x] = (U8)(v >> 8);
                    row[2 * x + 1] = (U8)v;
                }
            }
        }
    }
    if (g_stamp && (size_t)g->out_w * g->out_h * g->bpp >= 4) { /* frame number, uint32 little-endian */
        U32 n = (U32)fi->number;
        dst[0] = (U8)n;
        dst[1] = (U8)(n >> 8);
        dst[2] = (U8)(n >> 16);
        dst[3] = (U8)(n >> 24);
    }
}

static void fill_desc(FRAME_DESC *out, U32 usize, const frame_info_t *fi)
{
    FRAME_DESC d;
    memset(&d, 0, sizeof d);
    d.uSize = usize;
    d.fFrameTime = (F32)fi->frame_time;
    d.uFrameNumber = (U32)fi->number;
    d.Shutter.fValue = (F32)fi->exposure;
    d.Gain.fValue = (F32)fi->gain_db;
    d.Temperature.fValue = (F32)fi->temperature;
    d.Gamma.fValue = 1.0f;
    d.Trigger.fMode = fi->trigger[0];
    d.Trigger.fType = fi->trigger[1];
    d.Trigger.fPolarity = fi->trigger[2];
    d.Trigger.fDelay = fi->trigger[3];
    d.Trigger.fParameter = fi->trigger[4];
    d.FrameRate.fValue = (F32)(fi->fps_off ? fi->actual_fps : fi->fps_setting);
    d.Roi.fLeft = (F32)fi->g.left;
    d.Roi.fTop = (F32)fi->g.top;
    d.Roi.fWidth = (F32)fi->g.width;
    d.Roi.fHeight = (F32)fi->g.height;
    d.Decimation.fValue = (F32)fi->g.pa;
    d.PixelFormat.fValue = (F32)fi->g.pf;
    d.DecimationMode.fValue = (F32)fi->g.pa_mode;
    d.MaxPixelSize.fValue = 12.0f;
    d.PixelAddressingValue.fHorizontal = (F32)fi->g.pa;
    d.PixelAddressingValue.fVertical = (F32)fi->g.pa;
    d.dFrameTime = fi->frame_time;
    d.u64FrameNumber = fi->number;
    d.ActualFrameRate.fValue = (F32)fi->actual_fps;
    size_t n = usize < sizeof d ? usize : sizeof d;
    memcpy(out, &d, n);
}

static PXL_RETURN_CODE impl_GetNextFrame(HANDLE h, U32 bufsize, void *pFrame, FRAME_DESC *pDesc)
{
    static const char FN[] = "PxLGetNextFrame";
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    frame_info_t fi;
    memset(&fi, 0, sizeof fi);
    U32 usize = 0;
    int deliver = 0;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (c->stream_state != STREAM_START)
        FAIL(ApiStreamStopped, "the stream is not started");
    if (!pFrame) {
        if (bufsize == 0xFFFFFFFFu) /* "trigger only" form: frames go to callbacks, none emulated */
            goto out;
        FAIL(ApiNullPointerError, "pFrame is NULL");
    }
    if (!pDesc)
        FAIL(ApiNullPointerError, "pDescriptor is NULL");
    usize = pDesc->uSize;
    if (usize == 0)
        FAIL(ApiInvalidParameterError, "FRAME_DESC.uSize is 0");
    geom_t g = geometry(c);
    size_t need = (size_t)g.out_w * g.out_h * g.bpp;
    if (bufsize < need)
        FAIL(ApiBufferTooSmall, "frame buffer of %u bytes is smaller than the %zu-byte frame (%ux%u, format %u)",
             bufsize, need, g.out_w, g.out_h, g.pf);
    unsigned epoch = c->epoch;
    double now = mono_now();
    double exposure = effective_exposure(c), ro = readout_time(&g), period = frame_period(c, &g);
    int kind = trigger_kind(c);
    double delay = c->cur[FEATURE_TRIGGER].v[3];
    double due;
    U64 k = c->frame_seq + 1;
    if (kind == 2) { /* hardware trigger: wait for PxLEmu_HardwareTrigger */
        unsigned long long seq = c->hw_seq;
        c->hw_waiters++;
        while (seq == c->hw_seq) {
            rc = alive(c, gen);
            if (!rc && (c->epoch != epoch || c->stream_state != STREAM_START))
                rc = ApiStreamStopped;
            if (rc)
                break;
            pthread_cond_wait(&c->cv, &c->mu);
        }
        c->hw_waiters--;
        if (rc == ApiStreamStopped)
            FAIL(rc, "the stream was stopped while waiting for a trigger");
        if (rc == ApiNoCameraError)
            FAIL(rc, "camera %u was disconnected while waiting for a trigger", c->serial);
        if (rc)
            goto out;
        due = c->hw_time + delay + exposure + ro;
    } else if (kind == 1) { /* software trigger: this call triggers one exposure */
        double start = now > c->last_due ? now : c->last_due;
        due = start + delay + exposure + ro;
    } else if (g_freerun) { /* free-running sensor: frames nobody waits for are lost */
        if (c->fr_period != period) {
            c->fr_anchor_t = c->last_due >= 0 ? c->last_due : now;
            c->fr_anchor_k = c->frame_seq;
            c->fr_period = period;
        }
        double kf = flr((now - c->fr_anchor_t) / period) + 1.0;
        if (kf < 1.0)
            kf = 1.0;
        k = c->fr_anchor_k + (U64)kf;
        if (k <= c->frame_seq)
            k = c->frame_seq + 1;
        due = c->fr_anchor_t + (double)(k - c->fr_anchor_k) * period;
    } else { /* default: the exposure of the next frame starts when the sensor is free */
        due = now + exposure + ro;
        if (c->last_due >= 0 && c->last_due + period > due)
            due = c->last_due + period;
    }
    if (due > c->last_due)
        c->last_due = due; /* reserve the sensor (concurrent grabs queue up) */
    for (;;) {
        rc = alive(c, gen);
        if (rc == ApiNoCameraError)
            FAIL(rc, "camera %u was disconnected while waiting for a frame", c->serial);
        if (rc)
            goto out;
        if (c->epoch != epoch || c->stream_state != STREAM_START)
            FAIL(ApiStreamStopped, "the stream was stopped while waiting for a frame");
        if (mono_now() >= due)
            break;
        struct timespec ts = abs_time(due);
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    if (k <= c->frame_seq)
        k = c->frame_seq + 1;
    c->frame_seq = k;
    fi.g = g;
    fi.number = k + c->drop_total;
    c->last_frame_number = fi.number;
    fi.exposure = (double)(F32)exposure;
    fi.gain_db = c->cur[FEATURE_GAIN].v[0];
    fi.temperature = c->cur[FEATURE_SENSOR_TEMPERATURE].v[0];
    fi.fps_setting = c->cur[FEATURE_FRAME_RATE].v[0];
    fi.fps_off = c->cur[FEATURE_FRAME_RATE].mode == F_OFF;
    fi.actual_fps = 1.0 / period;
    fi.frame_time = due - c->t0;
    memcpy(fi.trigger, c->cur[FEATURE_TRIGGER].v, sizeof fi.trigger);
    deliver = 1;
out:
    pthread_mutex_unlock(&c->mu);
    if (deliver) {
        render_frame((U8 *)pFrame, &fi);
        fill_desc(pDesc, usize, &fi);
    }
    put_cam(c);
    return rc;
}

/* ================================================================ PxLFormatImage */

typedef struct {
    const U8 *src;
    U32 w, h, pf, bpp;
} img_t;

static U32 sample16(const img_t *im, U32 x, U32 y)
{
    const U8 *p = im->src + ((size_t)y * im->w + x) * im->bpp;
    return im->bpp == 1 ? (U32)p[0] << 8 : ((U32)p[0] << 8) | p[1];
}

/* 16-bit RGB of pixel (x, y); Bayer: 2x2 super-pixel demosaic */
static void pixel_rgb16(const img_t *im, U32 x, U32 y, U32 rgb[3])
{
    if (!pf_is_bayer(im->pf)) {
        rgb[0] = rgb[1] = rgb[2] = sample16(im, x, y);
        return;
    }
    U32 x0 = x & ~1u, y0 = y & ~1u;
    U32 x1 = x0 + 1 < im->w ? x0 + 1 : x0, y1 = y0 + 1 < im->h ? y0 + 1 : y0;
    U32 sum[3] = {0, 0, 0}, cnt[3] = {0, 0, 0};
    U32 xs[2] = {x0, x1}, ys[2] = {y0, y1};
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int col = cfa_colour(im->pf, (U32)i, (U32)j);
            sum[col] += sample16(im, xs[i], ys[j]);
            cnt[col]++;
        }
    for (int k = 0; k < 3; k++)
        rgb[k] = cnt[k] ? sum[k] / cnt[k] : 0;
}

static U8 grey8(const img_t *im, U32 x, U32 y)
{
    if (!pf_is_bayer(im->pf))
        return (U8)(sample16(im, x, y) >> 8);
    U32 rgb[3];
    pixel_rgb16(im, x, y, rgb);
    return (U8)(((rgb[0] + 2 * rgb[1] + rgb[2]) / 4) >> 8);
}

static void put16le(U8 *p, U32 v) { p[0] = (U8)v; p[1] = (U8)(v >> 8); }
static void put32le(U8 *p, U32 v) { p[0] = (U8)v; p[1] = (U8)(v >> 8); p[2] = (U8)(v >> 16); p[3] = (U8)(v >> 24); }
static void put32be(U8 *p, U32 v) { p[0] = (U8)(v >> 24); p[1] = (U8)(v >> 16); p[2] = (U8)(v >> 8); p[3] = (U8)v; }

static U32 crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static void crc_init(void)
{
    for (U32 n = 0; n < 256; n++) {
        U32 c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}
static U32 crc32_buf(const U8 *p, size_t n)
{
    U32 c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* Output size of format fmt for image im; 0 = format not supported */
static size_t format_size(U32 fmt, const img_t *im)
{
    size_t w = im->w, h = im->h;
    int colour = pf_is_bayer(im->pf);
    size_t ch = colour ? 3 : 1;
    switch (fmt) {
    case IMAGE_FORMAT_RAW_MONO8: return w * h;
    case IMAGE_FORMAT_RAW_RGB24:
    case IMAGE_FORMAT_RAW_RGB24_NON_DIB:
    case IMAGE_FORMAT_RAW_BGR24: return w * h * 3;
    case IMAGE_FORMAT_RAW_RGB48: return w * h * 6;
    case IMAGE_FORMAT_BMP: {
        size_t stride = (w * ch + 3) & ~(size_t)3;
        return 14 + 40 + (colour ? 0 : 1024) + stride * h;
    }
    case IMAGE_FORMAT_TIFF: return 8 + 2 + 13 * 12 + 4 + 6 + 16 + w * h * ch;
    case IMAGE_FORMAT_PNG: {
        size_t raw = h * (1 + w * ch);
        size_t blocks = raw ? (raw + 65534) / 65535 : 1;
        return 8 + (12 + 13) + (12 + 2 + raw + 5 * blocks + 4) + 12;
    }
    default: return 0;
    }
}

static void write_format(U32 fmt, const img_t *im, U8 *out, size_t size)
{
    U32 w = im->w, h = im->h;
    int colour = pf_is_bayer(im->pf);
    U32 ch = colour ? 3 : 1;
    U32 rgb[3];
    switch (fmt) {
    case IMAGE_FORMAT_RAW_MONO8:
        for (U32 y = 0; y < h; y++)
            for (U32 x = 0; x < w; x++)
                *out++ = grey8(im, x, y);
        break;
    case IMAGE_FORMAT_RAW_RGB24: /* B,G,R, bottom row first (Windows DIB order) */
        for (U32 y = h; y-- > 0;)
            for (U32 x = 0; x < w; x++) {
                pixel_rgb16(im, x, y, rgb);
                *out++ = (U8)(rgb[2] >> 8);
                *out++ = (U8)(rgb[1] >> 8);
                *out++ = (U8)(rgb[0] >> 8);
            }
        break;
    case IMAGE_FORMAT_RAW_RGB24_NON_DIB:
    case IMAGE_FORMAT_RAW_BGR24: {
        int bgr = fmt == IMAGE_FORMAT_RAW_BGR24;
        for (U32 y = 0; y < h; y++)
            for (U32 x = 0; x < w; x++) {
                pixel_rgb16(im, x, y, rgb);
                *out++ = (U8)(rgb[bgr ? 2 : 0] >> 8);
                *out++ = (U8)(rgb[1] >> 8);
                *out++ = (U8)(rgb[bgr ? 0 : 2] >> 8);
            }
        break;
    }
    case IMAGE_FORMAT_RAW_RGB48: /* R,G,B 16-bit little-endian, top row first */
        for (U32 y = 0; y < h; y++)
            for (U32 x = 0; x < w; x++) {
                pixel_rgb16(im, x, y, rgb);
                for (int k = 0; k < 3; k++) {
                    put16le(out, rgb[k]);
                    out += 2;
                }
            }
        break;
    case IMAGE_FORMAT_BMP: {
        U32 stride = (w * ch + 3) & ~3u;
        U32 off = 14 + 40 + (colour ? 0 : 1024);
        memset(out, 0, size);
        out[0] = 'B';
        out[1] = 'M';
        put32le(out + 2, (U32)size);
        put32le(out + 10, off);
        put32le(out + 14, 40);
        put32le(out + 18, w);
        put32le(out + 22, h); /* positive: bottom-up */
        put16le(out + 26, 1);
        put16le(out + 28, (U32)(colour ? 24 : 8));
        put32le(out + 34, stride * h);
        put32le(out + 38, 2835); /* 72 dpi */
        put32le(out + 42, 2835);
        if (!colour) {
            put32le(out + 46, 256);
            for (U32 i = 0; i < 256; i++) {
                U8 *q = out + 54 + 4 * i;
                q[0] = q[1] = q[2] = (U8)i;
            }
        }
        for (U32 y = 0; y < h; y++) {
            U8 *row = out + off + (size_t)(h - 1 - y) * stride;
            for (U32 x = 0; x < w; x++) {
                if (colour) {
                    pixel_rgb16(im, x, y, rgb);
                    row[3 * x] = (U8)(rgb[2] >> 8);
                    row[3 * x + 1] = (U8)(rgb[1] >> 8);
                    row[3 * x + 2] = (U8)(rgb[0] >> 8);
                } else
                    row[x] = grey8(im, x, y);
            }
        }
        break;
    }
    case IMAGE_FORMAT_TIFF: { /* little-endian baseline TIFF, uncompressed, one strip */
        memset(out, 0, size);
        const U32 nent = 13, ifd = 8, extra = 8 + 2 + nent * 12 + 4;
        const U32 bps_off = extra, xres_off = extra + 6, yres_off = extra + 14, data_off = extra + 22;
        out[0] = 'I';
        out[1] = 'I';
        put16le(out + 2, 42);
        put32le(out + 4, ifd);
        put16le(out + ifd, nent);
        U8 *e = out + ifd + 2;
        struct { U32 tag, type, count, value; } ents[13] = {
            {256, 4, 1, w},                                 /* ImageWidth */
            {257, 4, 1, h},                                 /* ImageLength */
            {258, 3, ch, colour ? bps_off : 8},             /* BitsPerSample */
            {259, 3, 1, 1},                                 /* Compression: none */
            {262, 3, 1, colour ? 2u : 1u},                  /* Photometric: RGB / BlackIsZero */
            {273, 4, 1, data_off},                          /* StripOffsets */
            {277, 3, 1, ch},                                /* SamplesPerPixel */
            {278, 4, 1, h},                                 /* RowsPerStrip */
            {279, 4, 1, w * h * ch},                        /* StripByteCounts */
            {282, 5, 1, xres_off},                          /* XResolution */
            {283, 5, 1, yres_off},                          /* YResolution */
            {284, 3, 1, 1},                                 /* PlanarConfiguration: chunky */
            {296, 3, 1, 2},                                 /* ResolutionUnit: inch */
        };
        for (U32 i = 0; i < nent; i++, e += 12) {
            put16le(e, ents[i].tag);
            put16le(e + 2, ents[i].type);
            put32le(e + 4, ents[i].count);
            if (ents[i].type == 3 && ents[i].count == 1)
                put16le(e + 8, ents[i].value);
            else
                put32le(e + 8, ents[i].value);
        }
        put32le(e, 0); /* no next IFD */
        put16le(out + bps_off, 8);
        put16le(out + bps_off + 2, 8);
        put16le(out + bps_off + 4, 8);
        put32le(out + xres_off, 72);
        put32le(out + xres_off + 4, 1);
        put32le(out + yres_off, 72);
        put32le(out + yres_off + 4, 1);
        U8 *d = out + data_off;
        for (U32 y = 0; y < h; y++)
            for (U32 x = 0; x < w; x++) {
                if (colour) {
                    pixel_rgb16(im, x, y, rgb);
                    *d++ = (U8)(rgb[0] >> 8);
                    *d++ = (U8)(rgb[1] >> 8);
                    *d++ = (U8)(rgb[2] >> 8);
                } else
                    *d++ = grey8(im, x, y);
            }
        break;
    }
    case IMAGE_FORMAT_PNG: { /* 8-bit grey or RGB, zlib stream of stored (uncompressed) blocks */
        pthread_once(&crc_once, crc_init);
        static const U8 sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        U8 *q = out;
        memcpy(q, sig, 8);
        q += 8;
        put32be(q, 13);
        memcpy(q + 4, "IHDR", 4);
        put32be(q + 8, w);
        put32be(q + 12, h);
        q[16] = 8;
        q[17] = colour ? 2 : 0;
        q[18] = q[19] = q[20] = 0;
        put32be(q + 21, crc32_buf(q + 4, 17));
        q += 25;
        size_t raw = (size_t)h * (1 + (size_t)w * ch);
        size_t blocks = raw ? (raw + 65534) / 65535 : 1;
        size_t zlen = 2 + raw + 5 * blocks + 4;
        put32be(q, (U32)zlen);
        memcpy(q + 4, "IDAT", 4);
        U8 *z = q + 8;
        U8 *zp = z;
        *zp++ = 0x78;
        *zp++ = 0x01;
        U32 a = 1, b = 0; /* adler32 */
        size_t left = raw, pos = 0;
        size_t rowlen = 1 + (size_t)w * ch;
        if (raw == 0) {
            *zp++ = 1;
            put16le(zp, 0);
            put16le(zp + 2, 0xFFFF);
            zp += 4;
        }
        while (left > 0) {
            size_t n = left > 65535 ? 65535 : left;
            *zp++ = (U8)(left == n ? 1 : 0);
            put16le(zp, (U32)n);
            put16le(zp + 2, (U32)(~n & 0xFFFF));
            zp += 4;
            for (size_t i = 0; i < n; i++, pos++) {
                size_t y = pos / rowlen, r = pos % rowlen;
                U8 byte;
                if (r == 0)
                    byte = 0; /* filter type None */
                else if (colour) {
                    size_t x = (r - 1) / 3;
                    pixel_rgb16(im, (U32)x, (U32)y, rgb);
                    byte = (U8)(rgb[(r - 1) % 3] >> 8);
                } else
                    byte = grey8(im, (U32)(r - 1), (U32)y);
                *zp++ = byte;
                a = (a + byte) % 65521;
                b = (b + a) % 65521;
            }
            left -= n;
        }
        put32be(zp, (b << 16) | a);
        zp += 4;
        put32be(zp, crc32_buf(q + 4, 4 + zlen));
        q = zp + 4;
        put32be(q, 0);
        memcpy(q + 4, "IEND", 4);
        put32be(q + 8, crc32_buf(q + 4, 4));
        break;
    }
    default:
        break;
    }
}

static PXL_RETURN_CODE impl_FormatImage(const void *src, const FRAME_DESC *d, U32 fmt, void *dst, U32 *pDstSize)
{
    if (!d || !pDstSize)
        return ApiNullPointerError;
    float pax = d->PixelAddressingValue.fHorizontal, pay = d->PixelAddressingValue.fVertical;
    if (!(pax >= 1.0f) || !(pay >= 1.0f) || !(d->Roi.fWidth >= 1.0f) || !(d->Roi.fHeight >= 1.0f) ||
        !(d->Roi.fWidth <= 65536.0f) || !(d->Roi.fHeight <= 65536.0f))
        return ApiInvalidParameterError;
    if (!(d->PixelFormat.fValue >= 0.0f && d->PixelFormat.fValue <= 64.0f))
        return ApiUnsupportedPixelFormatError;
    img_t im;
    im.src = src;
    im.w = (U32)(d->Roi.fWidth / pax);
    im.h = (U32)(d->Roi.fHeight / pay);
    im.pf = (U32)d->PixelFormat.fValue;
    im.bpp = (U32)pf_bpp(im.pf);
    if (im.bpp == 0 || (float)im.pf != d->PixelFormat.fValue)
        return ApiUnsupportedPixelFormatError;
    if (im.w == 0 || im.h == 0)
        return ApiInvalidParameterError;
    size_t need = format_size(fmt, &im);
    if (need == 0)
        return ApiNotSupportedError; /* PSD, JPEG and unknown formats */
    if (need > 0xFFFFFFFFu)
        return ApiInvalidParameterError;
    if (!dst) {
        *pDstSize = (U32)need;
        return ApiSuccess;
    }
    if (!src)
        return ApiNullPointerError;
    if (*pDstSize < need) {
        *pDstSize = (U32)need;
        return ApiBufferTooSmall;
    }
    write_format(fmt, &im, dst, need);
    *pDstSize = (U32)need;
    return ApiSuccess;
}

/* ================================================================ error report, timestamp, callbacks, settings */

static PXL_RETURN_CODE impl_GetErrorReport(HANDLE h, ERROR_REPORT *p)
{
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    if (!p) {
        put_cam(c);
        return ApiNullPointerError;
    }
    pthread_mutex_lock(&c->mu);
    memcpy(p, &c->err, sizeof *p); /* also after an unplug: the report says why calls failed */
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return ApiSuccess;
}

static PXL_RETURN_CODE impl_GetCurrentTimestamp(HANDLE h, double *p)
{
    static const char FN[] = "PxLGetCurrentTimestamp";
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (!p)
        FAIL(ApiNullPointerError, "pCurrentTimestamp is NULL");
    *p = mono_now() - c->t0;
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

static PXL_RETURN_CODE impl_SetCallback(HANDLE h, U32 type, void *ctx, void *fn)
{
    static const char FN[] = "PxLSetCallback";
    (void)type;
    (void)ctx;
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (fn) /* removing a callback (fn NULL) succeeds: there is never one installed */
        FAIL(ApiNotSupportedError, "frame/preview callbacks are not emulated; use PxLGetNextFrame");
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

static PXL_RETURN_CODE impl_SetEventCallback(HANDLE h, U32 eventId, void *ctx, event_fn_t fn)
{
    static const char FN[] = "PxLSetEventCallback";
    camera_t *c;
    unsigned gen;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, NULL);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (eventId != EVENT_ANY && eventId != EVENT_CAMERA_DISCONNECTED)
        FAIL(ApiThisEventNotSupported, "event %u is not emulated (only 0 ANY and 1 CAMERA_DISCONNECTED)", eventId);
out:
    pthread_mutex_unlock(&c->mu);
    if (!rc) {
        pthread_mutex_lock(&g_mu);
        hrec_t *r = find_handle((U32)(uintptr_t)h);
        if (r) {
            r->ev_fn = fn;
            r->ev_ctx = ctx;
            r->ev_id = eventId;
        }
        pthread_mutex_unlock(&g_mu);
    }
    put_cam(c);
    return rc;
}

static PXL_RETURN_CODE impl_Settings(HANDLE h, U32 channel, int save)
{
    const char *FN = save ? "PxLSaveSettings" : "PxLLoadSettings";
    camera_t *c;
    unsigned gen;
    U32 hflags;
    PXL_RETURN_CODE rc = get_cam(h, &c, &gen, &hflags);
    if (rc)
        return rc;
    pthread_mutex_lock(&c->mu);
    CHECK_ALIVE();
    if (hflags & INIT_MONITOR_ACCESS_ONLY)
        FAIL(ApiRequiresControlAccess, "handle has monitor access only");
    if (channel > 1 || (save && channel == 0))
        FAIL(ApiInvalidParameterError, "invalid memory channel %u (%s)", channel,
             save ? "only 1 = user can be saved" : "0 = factory, 1 = user");
    if (save) {
        memcpy(c->user, c->cur, sizeof c->user);
        c->has_user = 1;
    } else {
        if (c->stream_state == STREAM_START)
            FAIL(ApiNotPermittedWhileStreaming, "stop the stream before loading settings");
        featval_t src[FEATURES_TOTAL];
        load_factory(c, src);
        if (channel == 1 && c->has_user)
            memcpy(src, c->user, sizeof src);
        for (int i = 0; i < FEATURES_TOTAL; i++)
            if (c->def[i].caps & F_PERS)
                c->cur[i] = src[i];
        reset_stream_timing(c);
    }
out:
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    return rc;
}

/* ================================================================ exported vendor API */

PXLAPI PXL_RETURN_CODE PxLInitializeEx(U32 serialNumber, HANDLE *phCamera, U32 flags)
{
    API_ENTER(PxLInitializeEx, NULL, 0);
    return API_LEAVE(impl_Initialize(serialNumber, phCamera, flags));
}

PXLAPI PXL_RETURN_CODE PxLInitialize(U32 serialNumber, HANDLE *phCamera)
{
    API_ENTER(PxLInitialize, NULL, 0);
    return API_LEAVE(impl_Initialize(serialNumber, phCamera, 0));
}

PXLAPI PXL_RETURN_CODE PxLUninitialize(HANDLE hCamera)
{
    API_ENTER(PxLUninitialize, hCamera, 1);
    return API_LEAVE(impl_Uninitialize(hCamera));
}

PXLAPI PXL_RETURN_CODE PxLGetNumberCamerasEx(CAMERA_ID_INFO *pCameraIdInfo, U32 *pNumberCameraIdInfos)
{
    API_ENTER(PxLGetNumberCamerasEx, NULL, 0);
    return API_LEAVE(impl_GetNumberCamerasEx(pCameraIdInfo, pNumberCameraIdInfos));
}

PXLAPI PXL_RETURN_CODE PxLGetNumberCameras(U32 *pSerialNumbers, U32 *pNumberSerialNumbers)
{
    API_ENTER(PxLGetNumberCameras, NULL, 0);
    return API_LEAVE(impl_GetNumberCameras(pSerialNumbers, pNumberSerialNumbers));
}

PXLAPI PXL_RETURN_CODE PxLGetCameraInfoEx(HANDLE hCamera, CAMERA_INFO *pInformation, U32 informationSize)
{
    API_ENTER(PxLGetCameraInfoEx, hCamera, 1);
    return API_LEAVE(impl_GetCameraInfo(hCamera, pInformation, informationSize, "PxLGetCameraInfoEx"));
}

PXLAPI PXL_RETURN_CODE PxLGetCameraInfo(HANDLE hCamera, CAMERA_INFO *pInformation)
{
    API_ENTER(PxLGetCameraInfo, hCamera, 1);
    return API_LEAVE(impl_GetCameraInfo(hCamera, pInformation, (U32)sizeof(CAMERA_INFO), "PxLGetCameraInfo"));
}

PXLAPI PXL_RETURN_CODE PxLGetCameraFeatures(HANDLE hCamera, U32 featureId, CAMERA_FEATURES *pFeatureInfo,
                                            U32 *pBufferSize)
{
    API_ENTER(PxLGetCameraFeatures, hCamera, 1);
    return API_LEAVE(impl_GetCameraFeatures(hCamera, featureId, pFeatureInfo, pBufferSize));
}

PXLAPI PXL_RETURN_CODE PxLGetFeature(HANDLE hCamera, U32 featureId, U32 *pFlags, U32 *pNumberOfParams, F32 *pParams)
{
    API_ENTER(PxLGetFeature, hCamera, 1);
    return API_LEAVE(impl_GetFeature(hCamera, featureId, pFlags, pNumberOfParams, pParams));
}

PXLAPI PXL_RETURN_CODE PxLSetFeature(HANDLE hCamera, U32 featureId, U32 flags, U32 numberOfParams,
                                     const F32 *pParams)
{
    API_ENTER(PxLSetFeature, hCamera, 1);
    return API_LEAVE(impl_SetFeature(hCamera, featureId, flags, numberOfParams, pParams));
}

PXLAPI PXL_RETURN_CODE PxLSetStreamState(HANDLE hCamera, U32 streamState)
{
    API_ENTER(PxLSetStreamState, hCamera, 1);
    return API_LEAVE(impl_SetStreamState(hCamera, streamState));
}

PXLAPI PXL_RETURN_CODE PxLGetStreamState(HANDLE hCamera, U32 *pStreamState, U32 *pNumberFrameBuffers)
{
    API_ENTER(PxLGetStreamState, hCamera, 1);
    return API_LEAVE(impl_GetStreamState(hCamera, pStreamState, pNumberFrameBuffers));
}

PXLAPI PXL_RETURN_CODE PxLGetNextFrame(HANDLE hCamera, U32 bufferSize, void *pFrame, FRAME_DESC *pFrameDesc)
{
    API_ENTER(PxLGetNextFrame, hCamera, 1);
    return API_LEAVE(impl_GetNextFrame(hCamera, bufferSize, pFrame, pFrameDesc));
}

PXLAPI PXL_RETURN_CODE PxLFormatImage(const void *pSrcFrame, const FRAME_DESC *pSrcFrameDesc, U32 outputFormat,
                                      void *pDestBuffer, U32 *pDestBufferSize)
{
    API_ENTER(PxLFormatImage, NULL, 0);
    return API_LEAVE(impl_FormatImage(pSrcFrame, pSrcFrameDesc, outputFormat, pDestBuffer, pDestBufferSize));
}

PXLAPI PXL_RETURN_CODE PxLGetErrorReport(HANDLE hCamera, ERROR_REPORT *pErrorReport)
{
    API_ENTER(PxLGetErrorReport, NULL, 0);
    return API_LEAVE(impl_GetErrorReport(hCamera, pErrorReport));
}

PXLAPI PXL_RETURN_CODE PxLGetCurrentTimestamp(HANDLE hCamera, double *pCurrentTimestamp)
{
    API_ENTER(PxLGetCurrentTimestamp, hCamera, 1);
    return API_LEAVE(impl_GetCurrentTimestamp(hCamera, pCurrentTimestamp));
}

PXLAPI PXL_RETURN_CODE PxLSetCallback(HANDLE hCamera, U32 callbackType, void *pContext, void *pfn)
{
    API_ENTER(PxLSetCallback, hCamera, 1);
    return API_LEAVE(impl_SetCallback(hCamera, callbackType, pContext, pfn));
}

PXLAPI PXL_RETURN_CODE PxLSetEventCallback(HANDLE hCamera, U32 eventId, void *pContext, event_fn_t pfn)
{
    API_ENTER(PxLSetEventCallback, hCamera, 1);
    return API_LEAVE(impl_SetEventCallback(hCamera, eventId, pContext, pfn));
}

PXLAPI PXL_RETURN_CODE PxLLoadSettings(HANDLE hCamera, U32 channelNumber)
{
    API_ENTER(PxLLoadSettings, hCamera, 1);
    return API_LEAVE(impl_Settings(hCamera, channelNumber, 0));
}

PXLAPI PXL_RETURN_CODE PxLSaveSettings(HANDLE hCamera, U32 channelNumber)
{
    API_ENTER(PxLSaveSettings, hCamera, 1);
    return API_LEAVE(impl_Settings(hCamera, channelNumber, 1));
}

PXLAPI PXL_RETURN_CODE PxLSetCameraName(HANDLE hCamera, const char *pCameraName)
{
    API_ENTER(PxLSetCameraName, hCamera, 1);
    return API_LEAVE(impl_SetCameraName(hCamera, pCameraName));
}

/* Stubs: arguments (whatever they are) are ignored, which is safe with the x86-64 SysV ABI. */
#define X_STUB(name)                                                                               \
    PXLAPI PXL_RETURN_CODE name(void)                                                              \
    {                                                                                              \
        API_ENTER(name, NULL, 0);                                                                  \
        return API_LEAVE(ApiNotSupportedError);                                                    \
    }
PXL_STUBS(X_STUB)

/* ================================================================ emulator control API */

PXLAPI int PxLEmu_Reset(void)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    while (g_cams) {
        camera_t *c = g_cams;
        g_cams = c->next;
        pthread_mutex_lock(&c->mu);
        c->retired = 1;
        c->plugged = 0;
        c->epoch++;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        c->next = g_retired;
        g_retired = c;
    }
    while (g_handles) {
        hrec_t *r = g_handles;
        g_handles = r->next;
        free(r);
    }
    for (camera_t **pp = &g_retired; *pp;) {
        camera_t *c = *pp;
        if (c->refs == 0) {
            *pp = c->next;
            cam_free(c);
        } else
            pp = &c->next;
    }
    load_profile_locked();
    pthread_mutex_unlock(&g_mu);
    pthread_mutex_lock(&g_fmu);
    memset(g_f, 0, sizeof g_f);
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_AddCamera(U32 serial, const char *model, U32 width, U32 height)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    int rc = add_camera_locked(serial, model, width ? width : DEFAULT_WIDTH, height ? height : DEFAULT_HEIGHT);
    pthread_mutex_unlock(&g_mu);
    return rc;
}

PXLAPI int PxLEmu_RemoveCamera(U32 serial)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    camera_t **pp = &g_cams;
    while (*pp && (*pp)->serial != serial)
        pp = &(*pp)->next;
    camera_t *c = *pp;
    if (!c) {
        pthread_mutex_unlock(&g_mu);
        return -1;
    }
    *pp = c->next;
    pthread_mutex_lock(&c->mu);
    c->retired = 1;
    c->plugged = 0;
    c->epoch++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    c->next = g_retired;
    g_retired = c;
    pthread_mutex_unlock(&g_mu);
    return 0;
}

PXLAPI int PxLEmu_Unplug(U32 serial)
{
    ensure_init();
    struct { event_fn_t fn; void *ctx; U32 id; } ev[32];
    int nev = 0;
    double ts = 0;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (!c) {
        pthread_mutex_unlock(&g_mu);
        return -1;
    }
    if (c->plugged) {
        pthread_mutex_lock(&c->mu);
        c->plugged = 0;
        c->stream_state = STREAM_STOP;
        c->epoch++;
        ts = mono_now() - c->t0;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        for (hrec_t *r = g_handles; r && nev < 32; r = r->next)
            if (r->cam == c && r->gen == c->gen && r->ev_fn) {
                ev[nev].fn = r->ev_fn;
                ev[nev].ctx = r->ev_ctx;
                ev[nev].id = r->id;
                nev++;
            }
    }
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < nev && !g_shutdown; i++) /* no lock held */
        ev[i].fn(ev[i].id, EVENT_CAMERA_DISCONNECTED, ts, 0, NULL, ev[i].ctx);
    return 0;
}

PXLAPI int PxLEmu_Replug(U32 serial)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (!c) {
        pthread_mutex_unlock(&g_mu);
        return -1;
    }
    if (!c->plugged) {
        pthread_mutex_lock(&c->mu);
        c->gen++; /* every handle made before is now invalid */
        c->plugged = 1;
        power_up(c);
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return 0;
}

PXLAPI int PxLEmu_SetBootDelay(U32 serial, int milliseconds)
{
    ensure_init();
    if (milliseconds < 0)
        return -2;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c) {
        pthread_mutex_lock(&c->mu);
        c->boot_delay_ms = milliseconds;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_FailNext(const char *function, int rc, int count)
{
    ensure_init();
    int i = fn_index(function);
    if (i < 0)
        return -1;
    pthread_mutex_lock(&g_fmu);
    g_f[i].fail_rc = rc;
    g_f[i].fail_count = count > 0 ? count : 0;
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_FailEvery(const char *function, int rc, int n)
{
    ensure_init();
    int i = fn_index(function);
    if (i < 0)
        return -1;
    pthread_mutex_lock(&g_fmu);
    g_f[i].every_rc = rc;
    g_f[i].every_n = n > 0 ? n : 0;
    g_f[i].every_counter = 0;
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_ClearFaults(void)
{
    ensure_init();
    pthread_mutex_lock(&g_fmu);
    for (int i = 0; i < FN_COUNT; i++) {
        g_f[i].fail_count = g_f[i].every_n = g_f[i].latency_us = 0;
        g_f[i].every_counter = 0;
    }
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_SetLatency(const char *function, int microseconds)
{
    ensure_init();
    int i = fn_index(function);
    if (i < 0)
        return -1;
    if (microseconds < 0)
        return -2;
    pthread_mutex_lock(&g_fmu);
    g_f[i].latency_us = microseconds;
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_CallCount(const char *function)
{
    ensure_init();
    int i = fn_index(function);
    if (i < 0)
        return -1;
    pthread_mutex_lock(&g_fmu);
    long long n = g_f[i].calls;
    pthread_mutex_unlock(&g_fmu);
    return n > 0x7FFFFFFF ? 0x7FFFFFFF : (int)n;
}

PXLAPI int PxLEmu_ResetCounts(void)
{
    ensure_init();
    pthread_mutex_lock(&g_fmu);
    for (int i = 0; i < FN_COUNT; i++)
        g_f[i].calls = 0;
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

static int count_handles(int stale_wanted)
{
    ensure_init();
    int n = 0;
    pthread_mutex_lock(&g_mu);
    for (hrec_t *r = g_handles; r; r = r->next) {
        int stale = r->cam->retired || r->gen != r->cam->gen;
        n += stale == stale_wanted;
    }
    pthread_mutex_unlock(&g_mu);
    return n;
}

PXLAPI int PxLEmu_OpenHandleCount(void) { return count_handles(0); }
PXLAPI int PxLEmu_StaleHandleCount(void) { return count_handles(1); }

PXLAPI int PxLEmu_DropFrames(U32 serial, int n)
{
    ensure_init();
    if (n < 0)
        return -2;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c) {
        pthread_mutex_lock(&c->mu);
        c->drop_total += (U64)n;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_HardwareTrigger(U32 serial)
{
    ensure_init();
    int taken = -1;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c) {
        pthread_mutex_lock(&c->mu);
        taken = 0;
        if (c->hw_waiters > 0) { /* a trigger nobody waits for is lost */
            c->hw_seq++;
            c->hw_time = mono_now();
            taken = 1;
            pthread_cond_broadcast(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return taken;
}

PXLAPI float PxLEmu_GetFeatureValue(U32 serial, U32 featureId, U32 paramIndex)
{
    ensure_init();
    float v = __builtin_nanf("");
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c && featureId < FEATURES_TOTAL && paramIndex < c->def[featureId].nparams &&
        (c->def[featureId].caps & F_PRES)) {
        F32 vals[MAXP];
        pthread_mutex_lock(&c->mu);
        feature_values(c, featureId, vals);
        pthread_mutex_unlock(&c->mu);
        v = vals[paramIndex];
    }
    pthread_mutex_unlock(&g_mu);
    return v;
}

PXLAPI int PxLEmu_SetFeatureValue(U32 serial, U32 featureId, U32 paramIndex, float value)
{
    ensure_init();
    int rc = -1;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c) {
        rc = -2;
        if (featureId < FEATURES_TOTAL && paramIndex < c->def[featureId].nparams && (c->def[featureId].caps & F_PRES)) {
            pthread_mutex_lock(&c->mu);
            c->cur[featureId].v[paramIndex] = value;
            pthread_mutex_unlock(&c->mu);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

PXLAPI int PxLEmu_GetStreamState(U32 serial)
{
    ensure_init();
    int s = -1;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c) {
        pthread_mutex_lock(&c->mu);
        s = (int)c->stream_state;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return s;
}

PXLAPI long long PxLEmu_LastFrameNumber(U32 serial)
{
    ensure_init();
    long long n = -1;
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c) {
        pthread_mutex_lock(&c->mu);
        n = (long long)c->last_frame_number;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return n;
}

PXLAPI int PxLEmu_SetFreeRun(int enabled)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    g_freerun = enabled != 0;
    for (camera_t *c = g_cams; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        reset_stream_timing(c);
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g_mu);
    return 0;
}

/* ---------------------------------------------------------------- text commands */

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

static const char help_text[] =
    "ok commands: ping | reset | cameras | add SERIAL [MODEL [W H]] | remove SERIAL | unplug SERIAL | "
    "replug SERIAL | bootdelay SERIAL MS | failnext FUNC RC [COUNT] | failevery FUNC RC N | clearfaults | "
    "latency FUNC US | drop SERIAL N | trigger SERIAL | count FUNC | resetcounts | handles | stale | "
    "get SERIAL FEATURE PARAM | set SERIAL FEATURE PARAM VALUE | state SERIAL | frame SERIAL | freerun 0|1";

PXLAPI int PxLEmu_Command(const char *line, char *reply, int replySize)
{
    ensure_init();
    char tmp[512];
    char rbuf[512];
    char *tok[8];
    int nt = 0;
    int ok = 1;
    if (!reply || replySize <= 0)
        return -2;
    copy_str(tmp, sizeof tmp, line ? line : "");
    char *save = NULL;
    for (char *t = strtok_r(tmp, " \t\r\n", &save); t && nt < 8; t = strtok_r(NULL, " \t\r\n", &save))
        tok[nt++] = t;
    for (int i = nt; i < 8; i++)
        tok[i] = NULL;
    U32 serial = 0, u1 = 0, u2 = 0;
    int i1 = 0, i2 = 0;
#define REPLY(...) snprintf(rbuf, sizeof rbuf, __VA_ARGS__)
#define ERR(...) (ok = 0, snprintf(rbuf, sizeof rbuf, "err " __VA_ARGS__))
#define RESULT(r, what) ((r) == 0 ? REPLY("ok") : (r) == -1 ? ERR("unknown %s", what) : ERR("invalid argument"))
    const char *cmd = nt ? tok[0] : "";
    if (nt == 0)
        ERR("empty command");
    else if (!strcmp(cmd, "ping"))
        REPLY("ok");
    else if (!strcmp(cmd, "help"))
        REPLY("%s", help_text);
    else if (!strcmp(cmd, "reset"))
        RESULT(PxLEmu_Reset(), "");
    else if (!strcmp(cmd, "cameras")) {
        size_t off = 0;
        rbuf[0] = 0;
        pthread_mutex_lock(&g_mu);
        for (camera_t *c = g_cams; c; c = c->next)
            if (c->plugged && off < sizeof rbuf - 16)
                off += (size_t)snprintf(rbuf + off, sizeof rbuf - off, "%s%u", off ? " " : "", c->serial);
        pthread_mutex_unlock(&g_mu);
        if (!off)
            REPLY("none");
    } else if (!strcmp(cmd, "add") && parse_u32(tok[1], &serial)) {
        U32 w = 0, h = 0;
        if (nt >= 5 && !(parse_u32(tok[3], &w) && parse_u32(tok[4], &h)))
            ERR("usage: add SERIAL [MODEL [W H]]");
        else {
            int r = PxLEmu_AddCamera(serial, tok[2], w, h);
            r == 0 ? REPLY("ok") : ERR("cannot add camera %u (exists, serial 0, or bad size)", serial);
        }
    } else if (!strcmp(cmd, "remove") && parse_u32(tok[1], &serial))
        RESULT(PxLEmu_RemoveCamera(serial), "serial");
    else if (!strcmp(cmd, "unplug") && parse_u32(tok[1], &serial))
        RESULT(PxLEmu_Unplug(serial), "serial");
    else if (!strcmp(cmd, "replug") && parse_u32(tok[1], &serial))
        RESULT(PxLEmu_Replug(serial), "serial");
    else if (!strcmp(cmd, "bootdelay") && parse_u32(tok[1], &serial) && parse_int(tok[2], &i1))
        RESULT(PxLEmu_SetBootDelay(serial, i1), "serial");
    else if (!strcmp(cmd, "failnext") && tok[1] && parse_int(tok[2], &i1) && (nt < 4 || parse_int(tok[3], &i2)))
        RESULT(PxLEmu_FailNext(tok[1], i1, nt < 4 ? 1 : i2), "function");
    else if (!strcmp(cmd, "failevery") && tok[1] && parse_int(tok[2], &i1) && parse_int(tok[3], &i2))
        RESULT(PxLEmu_FailEvery(tok[1], i1, i2), "function");
    else if (!strcmp(cmd, "clearfaults"))
        RESULT(PxLEmu_ClearFaults(), "");
    else if (!strcmp(cmd, "latency") && tok[1] && parse_int(tok[2], &i1))
        RESULT(PxLEmu_SetLatency(tok[1], i1), "function");
    else if (!strcmp(cmd, "drop") && parse_u32(tok[1], &serial) && parse_int(tok[2], &i1))
        RESULT(PxLEmu_DropFrames(serial, i1), "serial");
    else if (!strcmp(cmd, "trigger") && parse_u32(tok[1], &serial)) {
        int r = PxLEmu_HardwareTrigger(serial);
        r < 0 ? ERR("unknown serial") : REPLY("%d", r);
    } else if (!strcmp(cmd, "count") && tok[1]) {
        int r = PxLEmu_CallCount(tok[1]);
        r < 0 ? ERR("unknown function") : REPLY("%d", r);
    } else if (!strcmp(cmd, "resetcounts"))
        RESULT(PxLEmu_ResetCounts(), "");
    else if (!strcmp(cmd, "handles"))
        REPLY("%d", PxLEmu_OpenHandleCount());
    else if (!strcmp(cmd, "stale"))
        REPLY("%d", PxLEmu_StaleHandleCount());
    else if (!strcmp(cmd, "get") && parse_u32(tok[1], &serial) && parse_u32(tok[2], &u1) && parse_u32(tok[3], &u2)) {
        float v = PxLEmu_GetFeatureValue(serial, u1, u2);
        if (v != v)
            ERR("unknown serial, feature or parameter");
        else {
            char fb[64];
            fmt_float(fb, sizeof fb, v);
            REPLY("%s", fb);
        }
    } else if (!strcmp(cmd, "set") && parse_u32(tok[1], &serial) && parse_u32(tok[2], &u1) && parse_u32(tok[3], &u2) &&
               tok[4]) {
        char *end;
        float v = strtof(tok[4], &end);
        if (*end)
            ERR("bad value");
        else
            RESULT(PxLEmu_SetFeatureValue(serial, u1, u2, v), "serial");
    } else if (!strcmp(cmd, "state") && parse_u32(tok[1], &serial)) {
        int s = PxLEmu_GetStreamState(serial);
        s < 0 ? ERR("unknown serial") : REPLY("%d", s);
    } else if (!strcmp(cmd, "frame") && parse_u32(tok[1], &serial)) {
        long long n = PxLEmu_LastFrameNumber(serial);
        n < 0 ? ERR("unknown serial") : REPLY("%lld", n);
    } else if (!strcmp(cmd, "freerun") && parse_int(tok[1], &i1))
        RESULT(PxLEmu_SetFreeRun(i1), "");
    else
        ERR("bad command or arguments: %s (try help)", cmd);
#undef REPLY
#undef ERR
#undef RESULT
    copy_str(reply, (size_t)replySize, rbuf);
    return ok ? 0 : -1;
}
