/*
 * pxlemu_camera.c - the camera model: the camera and handle lists, the profile (PXLEMU_CONFIG),
 * power-up, retiring; PxLInitializeEx / PxLUninitialize, enumeration, camera info and name,
 * timestamp, callbacks.  Lock order: pxlemu_internal.h.
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ================================================================ camera model */

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
camera_t *g_cams;
static camera_t *g_retired; /* g_mu: cameras removed or reset away, freed when refs drops to 0 */
hrec_t *g_handles;
static U32 g_next_handle = 0x1000; /* g_mu */
atomic_int g_freerun;
atomic_int g_stamp = 1;
unsigned long long g_no_sws_mask;

/* ================================================================ profiles (emulator/README.md "Profiles") */

static const U32 mono_formats[] = {PIXEL_FORMAT_MONO8, PIXEL_FORMAT_MONO16, PIXEL_FORMAT_MONO12_PACKED};
static const U32 colour_formats[] = {PIXEL_FORMAT_BAYER8_RGGB, PIXEL_FORMAT_BAYER16_RGGB,
                                     PIXEL_FORMAT_BAYER12_RGGB_PACKED};

const profile_t g_profiles[] = {
    {.name = "mono", .model = DEFAULT_MODEL, .colour = 0, .width = DEFAULT_WIDTH, .height = DEFAULT_HEIGHT,
     .min_w = 64, .min_h = 64, .step_w = 8, .step_h = 8, .step_l = 8, .step_t = 8,
     .pa_modes = 0x7 /* decimate, average, bin */, .pa_values = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 6) | (1u << 8),
     .formats = mono_formats, .nformats = 3, .pf_min = PIXEL_FORMAT_MONO8, .pf_max = PIXEL_FORMAT_MONO12_PACKED,
     .max_pixel_size = 12, .ro_frame = 0.5e-3, .ro_row = 1e-6, .ro_pixel = 1e-9},
    /* PL-X9512-like granularity (FEATURES.md 2: steps 32/8/32/8), native phase RGGB */
    {.name = "colour", .model = "PL-EMU-2MPC", .colour = 1, .width = 1920, .height = 1200,
     .min_w = 64, .min_h = 64, .step_w = 32, .step_h = 8, .step_l = 32, .step_t = 8,
     .pa_modes = 0x5 /* decimate, bin */, .pa_values = (1u << 1) | (1u << 2) | (1u << 4),
     .formats = colour_formats, .nformats = 3, .pf_min = PIXEL_FORMAT_BAYER8_GRBG,
     .pf_max = PIXEL_FORMAT_BAYER12_BGGR_PACKED, .max_pixel_size = 12, .ro_frame = 0.5e-3, .ro_row = 2e-6,
     .ro_pixel = 2e-9},
};

const profile_t *find_profile(const char *name)
{
    if (!name || !*name)
        return &g_profiles[0];
    if (!strcmp(name, "color"))
        name = "colour";
    for (size_t i = 0; i < sizeof g_profiles / sizeof g_profiles[0]; i++)
        if (!strcmp(g_profiles[i].name, name))
            return &g_profiles[i];
    return NULL;
}

void reset_stream_timing(camera_t *c)
{
    c->last_due = -1.0;
    c->fr_period = 0.0;
}

void power_up(camera_t *c)
{
    load_factory(c, c->cur);
    memset(c->op_frames, 0, sizeof c->op_frames);
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
    /* triggering and GPIO (pxlemu_trigger.c): nothing in flight, input low, lines off, counters 0 */
    clear_in_flight(c);
    c->in_level = 0;
    c->burst.remaining = 0;
    c->accounted = 0;
    c->trig_accepted = c->trig_missed = c->frames_skipped = 0;
    c->last_exp_start = c->last_exp_end = 0.0;
    for (int i = 0; i < GPIO_LINES; i++) {
        memset(&c->gpio[i], 0, sizeof c->gpio[i]);
        c->gpio[i].mode = GPIO_MODE_NORMAL;
    }
}

/* Stop the camera's stream (if running) and wake any grab waiting on it. Takes c->mu. */
static void stop_stream(camera_t *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->stream_state != STREAM_STOP) {
        c->stream_state = STREAM_STOP;
        c->epoch++;
        clear_in_flight(c);
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

static camera_t *cam_new(U32 serial, const char *model, U32 w, U32 h, const profile_t *prof)
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
    c->prof = prof;
    copy_str(c->model, sizeof c->model, model && *model ? model : prof->model);
    snprintf(c->name, sizeof c->name, "PxLEmu %u", serial);
    c->width = w;
    c->height = h;
    c->plugged = 1;
    c->gen = 1;
    c->scene = 1.0; /* nominal: AUTO settles at 10 ms, 0 dB */
    c->cast[0] = 1.0; /* colour response R, G, B (the pattern's historic 1, 1/2, 1/4) */
    c->cast[1] = 0.5;
    c->cast[2] = 0.25;
    c->trig_timeout = g_trig_timeout;
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

void retire_camera_locked(camera_t *c)
{
    pthread_mutex_lock(&c->mu);
    c->retired = 1;
    c->plugged = 0;
    c->epoch++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    c->next = g_retired;
    g_retired = c;
}

void free_retired_locked(void)
{
    for (camera_t **pp = &g_retired; *pp;) {
        camera_t *c = *pp;
        pthread_mutex_lock(&c->mu);
        int thread = c->thr_alive && c->thr_pid == (int)getpid(); /* exits soon: it saw retired */
        pthread_mutex_unlock(&c->mu);
        if (c->refs == 0 && !thread) {
            *pp = c->next;
            cam_free(c);
        } else
            pp = &c->next;
    }
}

/* g_mu held */
static camera_t *find_cam(U32 serial)
{
    for (camera_t *c = g_cams; c; c = c->next)
        if (c->serial == serial)
            return c;
    return NULL;
}

hrec_t *find_handle(U32 id)
{
    for (hrec_t *r = g_handles; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

camera_t *lock_cam(U32 serial)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    camera_t *c = find_cam(serial);
    if (c)
        pthread_mutex_lock(&c->mu);
    return c;
}

void unlock_cam(camera_t *c)
{
    if (c)
        pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&g_mu);
}

static int valid_geometry(U32 w, U32 h, const profile_t *p)
{
    return w >= p->min_w && h >= p->min_h && w % p->step_w == 0 && h % p->step_h == 0 && w % p->step_l == 0 &&
           h % p->step_t == 0 && w <= 65536 && h <= 65536;
}

int add_camera_locked(U32 serial, const char *model, U32 w, U32 h, const profile_t *prof)
{
    if (!prof)
        prof = &g_profiles[0];
    if (!w)
        w = prof->width;
    if (!h)
        h = prof->height;
    if (serial == 0 || !valid_geometry(w, h, prof) || find_cam(serial))
        return -2;
    camera_t *c = cam_new(serial, model, w, h, prof);
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

/* PXLEMU_CONFIG: "cameras=700000001,700000002@colour:1280x1024;width=2448;height=2048;model=X;profile=mono;
 * stamp=1;freerun=0;nosws=7,8" */
void load_profile_locked(void)
{
    U32 width = 0, height = 0; /* 0: the profile's sensor size */
    char model[33] = "";
    char cams[512] = "700000001,700000002";
    const profile_t *def_prof = &g_profiles[0];
    g_stamp = 1;
    g_freerun = 0;
    g_no_sws_mask = 0;
    g_trig_timeout = DEFAULT_TRIGGER_TIMEOUT;
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
            else if (!strcmp(key, "profile")) {
                const profile_t *p = find_profile(val);
                if (p)
                    def_prof = p;
                else
                    fprintf(stderr, "pxlemu: PXLEMU_CONFIG: unknown profile '%s' (mono, colour)\n", val);
            }
            else if (!strcmp(key, "stamp"))
                g_stamp = atoi(val) != 0;
            else if (!strcmp(key, "freerun"))
                g_freerun = atoi(val) != 0;
            else if (!strcmp(key, "trigtimeout"))
                g_trig_timeout = strtod(val, NULL) >= 0 ? strtod(val, NULL) : DEFAULT_TRIGGER_TIMEOUT;
            else if (!strcmp(key, "nosws"))
                parse_feature_mask(val, &g_no_sws_mask);
            else
                fprintf(stderr, "pxlemu: PXLEMU_CONFIG: unknown key '%s'\n", key);
        }
        if ((width || height) && !valid_geometry(width ? width : def_prof->width,
                                                 height ? height : def_prof->height, def_prof)) {
            fprintf(stderr, "pxlemu: PXLEMU_CONFIG: bad sensor size %ux%u for profile %s; using %ux%u\n", width,
                    height, def_prof->name, def_prof->width, def_prof->height);
            width = height = 0;
        }
    }
    char *save = NULL;
    for (char *tok = strtok_r(cams, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        U32 w = width, h = height;
        const profile_t *prof = def_prof;
        char *colon = strchr(tok, ':');
        if (colon) {
            *colon = 0;
            if (sscanf(colon + 1, "%ux%u", &w, &h) != 2) {
                w = width;
                h = height;
            }
        }
        char *at = strchr(tok, '@');
        if (at) {
            *at = 0;
            prof = find_profile(at + 1);
            if (!prof) {
                fprintf(stderr, "pxlemu: PXLEMU_CONFIG: unknown profile '%s' (mono, colour)\n", at + 1);
                prof = def_prof;
            }
        }
        if (prof != def_prof && !colon)
            w = h = 0; /* the global size belongs to the default profile */
        U32 serial = (U32)strtoul(tok, NULL, 10);
        if (add_camera_locked(serial, model, w, h, prof) != 0)
            fprintf(stderr, "pxlemu: PXLEMU_CONFIG: cannot add camera '%s' (%ux%u)\n", tok, w, h);
    }
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

PXL_RETURN_CODE impl_Initialize(U32 serial, HANDLE *ph, U32 flags)
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

PXL_RETURN_CODE impl_Uninitialize(HANDLE h)
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
    if (!stale && !(r->flags & INIT_MONITOR_ACCESS_ONLY)) {
        stop_stream(c);
        pthread_mutex_lock(&c->mu);
        release_control(c);
        pthread_mutex_unlock(&c->mu);
    }
    c->refs++;
    pthread_mutex_unlock(&g_mu);
    /* its callbacks go, and none runs any more when this returns (not holding g_mu: a callback may call in) */
    pthread_mutex_lock(&c->mu);
    drop_regs(c, id, ~0u);
    pthread_mutex_unlock(&c->mu);
    put_cam(c);
    free(r);
    return stale ? ApiInvalidHandleError : ApiSuccess;
}

/* ================================================================ enumeration, camera info */

typedef void (*put_camera_t)(void *dst, U32 stride, const camera_t *c);

/* The two-call protocol of both enumerations: *pn is the capacity of dst (elements stride bytes apart) and
 * becomes the number of plugged cameras; if dst is not NULL and large enough, put() fills one element per
 * plugged camera, in enumeration order. */
static PXL_RETURN_CODE enumerate(void *dst, U32 stride, U32 *pn, put_camera_t put)
{
    if (!pn)
        return ApiNullPointerError;
    PXL_RETURN_CODE rc = ApiSuccess;
    pthread_mutex_lock(&g_mu);
    U32 count = 0;
    for (camera_t *c = g_cams; c; c = c->next)
        count += c->plugged ? 1 : 0;
    if (dst && *pn < count)
        rc = ApiBufferTooSmall;
    else if (dst) {
        char *p = dst;
        for (camera_t *c = g_cams; c; c = c->next)
            if (c->plugged) {
                put(p, stride, c);
                p += stride;
            }
    }
    *pn = count;
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static void put_id_info(void *dst, U32 stride, const camera_t *c) /* at most stride bytes of it */
{
    CAMERA_ID_INFO info;
    memset(&info, 0, sizeof info);
    info.StructSize = stride;
    info.CameraSerialNum = c->serial;
    info.CameraLinkSpeed = 5000;
    memcpy(dst, &info, stride < sizeof info ? stride : sizeof info);
}

static void put_serial(void *dst, U32 stride, const camera_t *c)
{
    (void)stride;
    *(U32 *)dst = c->serial;
}

PXL_RETURN_CODE impl_GetNumberCamerasEx(CAMERA_ID_INFO *p, U32 *pn)
{
    if (p && pn && p[0].StructSize < 8) /* StructSize: the caller's element size */
        return ApiInvalidParameterError;
    return enumerate(p, p && pn ? p[0].StructSize : 0, pn, put_id_info);
}

PXL_RETURN_CODE impl_GetNumberCameras(U32 *pSerials, U32 *pn)
{
    return enumerate(pSerials, sizeof *pSerials, pn, put_serial);
}

PXL_RETURN_CODE impl_GetCameraInfo(HANDLE h, CAMERA_INFO *p, U32 size, const char *fn)
{
    CAM_ENTER(fn, ACCESS_ANY, NULL, NULL);
    if (!p)
        FAIL(ApiNullPointerError, "pInformation is NULL");
    if (size == 0)
        FAIL(ApiInvalidParameterError, "informationSize is 0");
    CAMERA_INFO info;
    memset(&info, 0, sizeof info);
    copy_str(info.VendorName, sizeof info.VendorName, "PixeLINK");
    copy_str(info.ModelName, sizeof info.ModelName, c->model);
    snprintf(info.Description, sizeof info.Description, "PixeLINK SDK emulator (pxlemu), %ux%u %s sensor",
             c->width, c->height, c->prof->colour ? "colour" : "mono");
    snprintf(info.SerialNumber, sizeof info.SerialNumber, "%u", c->serial);
    copy_str(info.FirmwareVersion, sizeof info.FirmwareVersion, "1.0.0");
    copy_str(info.FPGAVersion, sizeof info.FPGAVersion, "1.0.0");
    copy_str(info.CameraName, sizeof info.CameraName, c->name);
    copy_str(info.XMLVersion, sizeof info.XMLVersion, "1.0.0");
    copy_str(info.BootloadVersion, sizeof info.BootloadVersion, "1.0.0");
    copy_str(info.LensDescription, sizeof info.LensDescription, "");
    memcpy(p, &info, size < sizeof info ? size : sizeof info);
out:
    return cam_leave(c, rc);
}

PXL_RETURN_CODE impl_SetCameraName(HANDLE h, const char *name)
{
    CAM_ENTER("PxLSetCameraName", ACCESS_CONTROL, NULL, NULL);
    if (!name)
        FAIL(ApiNullPointerError, "name is NULL");
    if (strlen(name) >= sizeof c->name)
        FAIL(ApiInvalidCameraName, "camera name longer than %zu characters", sizeof c->name - 1);
    copy_str(c->name, sizeof c->name, name);
out:
    return cam_leave(c, rc);
}

/* ================================================================ timestamp (callbacks: pxlemu_trigger.c) */

PXL_RETURN_CODE impl_GetCurrentTimestamp(HANDLE h, double *p)
{
    CAM_ENTER("PxLGetCurrentTimestamp", ACCESS_ANY, NULL, NULL);
    if (!p)
        FAIL(ApiNullPointerError, "pCurrentTimestamp is NULL");
    *p = mono_now() - c->t0;
out:
    return cam_leave(c, rc);
}
