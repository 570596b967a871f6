/*
 * pxlemu_stream.c - geometry and frame timing, stream state, PxLGetNextFrame: the timing models
 * (default, free-run, software and hardware trigger), the test pattern and the frame descriptor.
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <string.h>

/* ================================================================ geometry and timing */

geom_t geometry(const camera_t *c)
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

double auto_exposure(const camera_t *c)
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

double frame_period(const camera_t *c, const geom_t *g)
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

/* ================================================================ streaming */

PXL_RETURN_CODE impl_SetStreamState(HANDLE h, U32 state)
{
    U32 hflags;
    CAM_ENTER("PxLSetStreamState", ACCESS_ANY, NULL, &hflags);
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
    return cam_leave(c, rc);
}

PXL_RETURN_CODE impl_GetStreamState(HANDLE h, U32 *pState, U32 *pNumBuffers)
{
    CAM_ENTER("PxLGetStreamState", ACCESS_ANY, NULL, NULL);
    if (!pState)
        FAIL(ApiNullPointerError, "pStreamState is NULL");
    *pState = c->stream_state;
    if (pNumBuffers)
        *pNumBuffers = NUM_FRAME_BUFFERS;
out:
    return cam_leave(c, rc);
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

/* c->mu held: wait for PxLEmu_HardwareTrigger (mu released while waiting).  ApiSuccess, or why the wait ended:
 * ApiStreamStopped, ApiNoCameraError, ApiInvalidHandleError. */
static PXL_RETURN_CODE wait_hw_trigger(camera_t *c, unsigned gen, unsigned epoch)
{
    PXL_RETURN_CODE rc = ApiSuccess;
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
    return rc;
}

/* c->mu held: end of readout of the frame a grab at `now` gets, for the models without a hardware trigger;
 * *pk: its sequence number (in: the next one) */
static double frame_due(camera_t *c, int kind, double now, double delay, double exposure, double ro, double period,
                        U64 *pk)
{
    if (kind == 1) { /* software trigger: this call triggers one exposure */
        double start = now > c->last_due ? now : c->last_due;
        return start + delay + exposure + ro;
    }
    if (g_freerun) { /* free-running sensor: frames nobody waits for are lost */
        if (c->fr_period != period) {
            c->fr_anchor_t = c->last_due >= 0 ? c->last_due : now;
            c->fr_anchor_k = c->frame_seq;
            c->fr_period = period;
        }
        double kf = flr((now - c->fr_anchor_t) / period) + 1.0;
        if (kf < 1.0)
            kf = 1.0;
        U64 k = c->fr_anchor_k + (U64)kf;
        if (k <= c->frame_seq)
            k = c->frame_seq + 1;
        *pk = k;
        return c->fr_anchor_t + (double)(k - c->fr_anchor_k) * period;
    }
    /* default: the exposure of the next frame starts when the sensor is free */
    double due = now + exposure + ro;
    if (c->last_due >= 0 && c->last_due + period > due)
        due = c->last_due + period;
    return due;
}

PXL_RETURN_CODE impl_GetNextFrame(HANDLE h, U32 bufsize, void *pFrame, FRAME_DESC *pDesc)
{
    unsigned gen;
    CAM_ENTER("PxLGetNextFrame", ACCESS_ANY, &gen, NULL);
    frame_info_t fi;
    memset(&fi, 0, sizeof fi);
    U32 usize = 0;
    int deliver = 0;
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
        rc = wait_hw_trigger(c, gen, epoch);
        if (rc == ApiStreamStopped)
            FAIL(rc, "the stream was stopped while waiting for a trigger");
        if (rc == ApiNoCameraError)
            FAIL(rc, "camera %u was disconnected while waiting for a trigger", c->serial);
        if (rc)
            goto out;
        due = c->hw_time + delay + exposure + ro;
    } else {
        due = frame_due(c, kind, now, delay, exposure, ro, period, &k);
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
    rc = cam_leave(c, rc);
    if (deliver) { /* from a copy of the settings (fi), without any lock */
        render_frame((U8 *)pFrame, &fi);
        fill_desc(pDesc, usize, &fi);
    }
    return rc;
}
