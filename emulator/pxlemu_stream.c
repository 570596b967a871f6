/*
 * pxlemu_stream.c - geometry and frame timing, stream state, PxLGetNextFrame: the timing models
 * (default, free-run, software and hardware trigger), the test pattern and the frame descriptor.
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <stdlib.h>
#include <string.h>

/* ================================================================ geometry and timing */

geom_t geometry(const camera_t *c)
{
    geom_t g;
    const F32 *pa = c->cur[FEATURE_PIXEL_ADDRESSING].v;
    g.left = (U32)c->cur[FEATURE_ROI].v[0];
    g.top = (U32)c->cur[FEATURE_ROI].v[1];
    g.width = (U32)c->cur[FEATURE_ROI].v[2];
    g.height = (U32)c->cur[FEATURE_ROI].v[3];
    g.pa = pa[0] >= 1 ? (U32)pa[0] : 1;
    g.pa_x = pa[2] >= 1 ? (U32)pa[2] : 1;
    g.pa_y = pa[3] >= 1 ? (U32)pa[3] : 1;
    g.pa_mode = (U32)pa[1];
    g.pf = (U32)c->cur[FEATURE_PIXEL_FORMAT].v[0];
    g.out_w = g.width / g.pa_x; /* floor, as the wrapper's imageSize */
    g.out_h = g.height / g.pa_y;
    g.bytes = pf_frame_bytes(g.pf, g.out_w, g.out_h);
    g.flip_h = c->def[FEATURE_FLIP].caps && c->cur[FEATURE_FLIP].v[0] >= 0.5f;
    g.flip_v = c->def[FEATURE_FLIP].caps && c->cur[FEATURE_FLIP].v[1] >= 0.5f;
    return g;
}

/* rows and columns the sensor reads: decimation and binning happen on the sensor (fewer rows / shorter rows);
 * averaging is digital and reads every pixel (FEATURES.md 3 "interactions") */
double readout_time(const camera_t *c, const geom_t *g)
{
    const profile_t *p = c->prof;
    int on_sensor = g->pa_mode == 0 || g->pa_mode == 2;
    double rows = on_sensor ? (double)(g->height / g->pa_y) : g->height;
    double cols = on_sensor ? (double)(g->width / g->pa_x) : g->width;
    return p->ro_frame + rows * (p->ro_row + cols * p->ro_pixel);
}

double max_frame_rate(const camera_t *c)
{
    geom_t g = geometry(c);
    return 1.0 / readout_time(c, &g);
}

double frame_period(const camera_t *c, const geom_t *g)
{
    double p = c->cur[FEATURE_SHUTTER].v[0] + readout_time(c, g);
    if (c->cur[FEATURE_FRAME_RATE].mode != F_OFF) {
        double fps = c->cur[FEATURE_FRAME_RATE].v[0];
        if (fps > 0 && 1.0 / fps > p)
            p = 1.0 / fps;
    }
    return p;
}

/* ---------------------------------------------------------------- AUTO / ONEPUSH (FEATURES.md 6, 7, 8) */

/* The scene's brightness at exposure e and gain g (dB), relative to the target (1 = the pattern's nominal
 * brightness, mean about half of full scale): e / 10 ms * 10^(g/20) * scene. */
static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

double auto_target_exposure(const camera_t *c)
{
    double scene = c->scene > 1e-6 ? c->scene : 1e-6;
    double e = REFERENCE_EXPOSURE / (db_to_linear(c->cur[FEATURE_GAIN].v[0]) * scene);
    if (c->cur[FEATURE_GAIN].mode != F_MAN) /* gain adjusts too: the exposure does the work first, at 0 dB */
        e = REFERENCE_EXPOSURE / scene;
    e = clampd(e, c->cur[FEATURE_SHUTTER].v[1], c->cur[FEATURE_SHUTTER].v[2]);
    return (double)(float)(rnd(e * 1e6) / 1e6);
}

double auto_target_gain(const camera_t *c, double exposure)
{
    double scene = c->scene > 1e-6 ? c->scene : 1e-6;
    double lin = REFERENCE_EXPOSURE / (exposure * scene);
    double db = 20.0 * ln_(lin) / 2.302585092994046;
    db = clampd(db, c->def[FEATURE_GAIN].lim[0].fMinValue, c->def[FEATURE_GAIN].lim[0].fMaxValue);
    return (double)(float)(rnd(db * 10.0) / 10.0);
}

void auto_target_white(const camera_t *c, F32 out[3])
{
    /* balance the cast so that a white (grey) object comes out grey: green stays at unity */
    for (int k = 0; k < 3; k++) {
        double gk = c->cast[k] > 1e-6 ? c->cast[1] / c->cast[k] : 4.0;
        if (c->cast[1] <= 1e-6)
            gk = 1.0;
        gk = clampd(gk, c->def[FEATURE_WHITE_SHADING].lim[k].fMinValue, c->def[FEATURE_WHITE_SHADING].lim[k].fMaxValue);
        out[k] = (F32)(rnd(gk * 64.0) / 64.0);
    }
}

/* geometric step of the fraction f from a towards b (both > 0) */
static double geo_step(double a, double b, double f) { return a > 0 && b > 0 ? a * pow_(b / a, f) : b; }

void auto_step(camera_t *c)
{
    featval_t *sh = &c->cur[FEATURE_SHUTTER], *gn = &c->cur[FEATURE_GAIN];
    double exp_target = auto_target_exposure(c);
    if (sh->mode == F_AUTO) { /* continuous: half the remaining (logarithmic) distance per frame */
        double e = geo_step(sh->v[0], exp_target, 0.5);
        if (e / exp_target < 1.001 && exp_target / e < 1.001)
            e = exp_target;
        sh->v[0] = (F32)(rnd(clampd(e, sh->v[1], sh->v[2]) * 1e6) / 1e6);
    } else if (sh->mode == F_ONE) {
        int k = ++c->op_frames[FEATURE_SHUTTER];
        if (k >= ONEPUSH_FRAMES) {
            sh->v[0] = (F32)exp_target;
            sh->mode = F_MAN;
            c->op_frames[FEATURE_SHUTTER] = 0;
        } else {
            double e = geo_step(c->op_start[FEATURE_SHUTTER][0], exp_target, (double)k / ONEPUSH_FRAMES);
            sh->v[0] = (F32)(rnd(e * 1e6) / 1e6);
        }
    }
    if (gn->mode == F_AUTO || gn->mode == F_ONE) {
        double e = sh->mode == F_MAN ? sh->v[0] : exp_target;
        double g_target = auto_target_gain(c, e);
        if (gn->mode == F_AUTO) {
            double g = gn->v[0] + (g_target - gn->v[0]) * 0.5;
            if (g - g_target < 0.1 && g_target - g < 0.1)
                g = g_target;
            gn->v[0] = (F32)(rnd(g * 10.0) / 10.0);
        } else {
            int k = ++c->op_frames[FEATURE_GAIN];
            if (k >= ONEPUSH_FRAMES) {
                gn->v[0] = (F32)g_target;
                gn->mode = F_MAN;
                c->op_frames[FEATURE_GAIN] = 0;
            } else {
                double s0 = c->op_start[FEATURE_GAIN][0];
                gn->v[0] = (F32)(rnd((s0 + (g_target - s0) * k / ONEPUSH_FRAMES) * 10.0) / 10.0);
            }
        }
    }
    featval_t *ws = &c->cur[FEATURE_WHITE_SHADING];
    if (c->def[FEATURE_WHITE_SHADING].caps && ws->mode == F_ONE) {
        F32 t[3];
        auto_target_white(c, t);
        int k = ++c->op_frames[FEATURE_WHITE_SHADING];
        for (int i = 0; i < 3; i++) {
            double s0 = c->op_start[FEATURE_WHITE_SHADING][i];
            ws->v[i] = k >= WS_ONEPUSH_FRAMES ? t[i]
                                              : (F32)(rnd((s0 + (t[i] - s0) * k / WS_ONEPUSH_FRAMES) * 64.0) / 64.0);
        }
        if (k >= WS_ONEPUSH_FRAMES) {
            ws->mode = F_MAN;
            c->op_frames[FEATURE_WHITE_SHADING] = 0;
        }
    }
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
    clear_in_flight(c);
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

/* sequential writer of pixel values (mps-bit) in a frame format */
typedef struct {
    U8 *p;
    U32 pf, mps;
    int kind; /* 1 byte, 2 big-endian 16-bit, 3 GigE Vision 1.0 12-bit packed */
    int half; /* packed: a first pixel of a pair is pending */
    U32 pending;
} writer_t;

static void put_value(writer_t *w, U32 v)
{
    switch (w->kind) {
    case 1:
        *w->p++ = (U8)(v >> (w->mps - 8));
        break;
    case 2: {
        U32 x = v << (16 - w->mps); /* MSB-aligned, big-endian (FEATURES.md 5.1) */
        *w->p++ = (U8)(x >> 8);
        *w->p++ = (U8)x;
        break;
    }
    default: {
        U32 x = v << (12 - w->mps); /* 12 significant bits */
        if (!w->half) {
            w->pending = x;
            w->half = 1;
        } else { /* b0 = P0[11:4], b1 = P0[3:0] | P1[3:0] << 4, b2 = P1[11:4] */
            w->p[0] = (U8)(w->pending >> 4);
            w->p[1] = (U8)((w->pending & 0xF) | ((x & 0xF) << 4));
            w->p[2] = (U8)(x >> 4);
            w->p += 3;
            w->half = 0;
        }
    }
    }
}

static void flush_values(writer_t *w)
{
    if (w->kind == 3 && w->half) { /* odd pixel count: the last pair is half empty */
        w->p[0] = (U8)(w->pending >> 4);
        w->p[1] = (U8)(w->pending & 0xF);
        w->half = 0;
    }
}

/* Renders the frame (emulator/README.md "Test pattern").  Returns 0, or -1 if out of memory. */
int render_frame(U8 *dst, const frame_info_t *fi)
{
    const geom_t *g = &fi->g;
    const U32 full = (1u << fi->mps) - 1u;
    double scale = fi->exposure / REFERENCE_EXPOSURE * db_to_linear(fi->gain_db) * fi->scene;
    uint16_t lut[3][256]; /* sensor value of pattern value g, per colour */
    for (int k = 0; k < 3; k++) {
        double f = fi->colour ? fi->cast[k] * fi->ws[k] : 1.0;
        for (int i = 0; i < 256; i++) {
            double v = i * 16.0 * scale * f * (full / 4095.0) + 0.5;
            lut[k][i] = (uint16_t)(v >= (double)full ? full : (U32)v);
        }
    }
    uint16_t *post = NULL; /* black level and gamma, when they change anything */
    if (fi->black > 0 || (fi->gamma > 0 && fi->gamma != 1.0)) {
        post = malloc((full + 1) * sizeof *post);
        if (!post)
            return -1;
        double off = fi->black / 100.0 * full;
        for (U32 v = 0; v <= full; v++) {
            double x = v + off;
            if (x > full)
                x = full;
            if (fi->gamma > 0 && fi->gamma != 1.0)
                x = full * pow_(x / full, 1.0 / fi->gamma);
            x = rnd(x);
            post[v] = (uint16_t)(x > full ? full : x < 0 ? 0 : x);
        }
    }
    U32 *col = malloc((size_t)(g->out_w ? g->out_w : 1) * sizeof *col);
    if (!col) {
        free(post);
        return -1;
    }
    int bayer = fi->colour && pf_is_bayer(g->pf);
    U32 step = bayer ? 2 : 1; /* same-colour neighbours are 2 apart on a Bayer sensor */
    for (U32 x = 0; x < g->out_w; x++) { /* sensor column (relative to ROI.left) of each output column's block */
        U32 xs = g->flip_h ? g->out_w - 1 - x : x;
        col[x] = bayer ? (xs >> 1) * 2 * g->pa_x + (xs & 1) : xs * g->pa_x;
    }
    U32 nx = 1, ny = 1; /* samples per block */
    if (g->pa_mode == 1 || g->pa_mode == 2) {
        nx = g->pa_x;
        ny = g->pa_y;
    }
    writer_t w = {dst, g->pf, fi->mps, pf_is_packed12(g->pf) ? 3 : pf_bpp(g->pf) == 2 ? 2 : 1, 0, 0};
    U32 shift = (U32)(fi->number & 255u);
    for (U32 y = 0; y < g->out_h; y++) {
        U32 ys = g->flip_v ? g->out_h - 1 - y : y;
        U32 ry = bayer ? (ys >> 1) * 2 * g->pa_y + (ys & 1) : ys * g->pa_y;
        U32 base = g->left + g->top + ry + shift;
        for (U32 x = 0; x < g->out_w; x++) {
            U32 cx = col[x];
            int k = bayer ? cfa_colour(fi->native_pf, cx, ry) : 0;
            U32 v;
            if (nx == 1 && ny == 1) {
                v = lut[k][(base + cx) & 255u];
            } else {
                U32 sum = 0;
                for (U32 j = 0; j < ny; j++)
                    for (U32 i = 0; i < nx; i++)
                        sum += lut[k][(base + j * step + cx + i * step) & 255u];
                if (g->pa_mode == 2) /* bin: digital sum, saturates */
                    v = sum > full ? full : sum;
                else /* average */
                    v = (sum + nx * ny / 2) / (nx * ny);
            }
            put_value(&w, post ? post[v] : v);
        }
    }
    flush_values(&w);
    free(col);
    free(post);
    if (g_stamp && g->bytes >= 4) { /* frame number, uint32 little-endian */
        U32 n = (U32)fi->number;
        dst[0] = (U8)n;
        dst[1] = (U8)(n >> 8);
        dst[2] = (U8)(n >> 16);
        dst[3] = (U8)(n >> 24);
    }
    return 0;
}

void fill_desc(FRAME_DESC *out, U32 usize, const frame_info_t *fi)
{
    FRAME_DESC d;
    memset(&d, 0, sizeof d);
    d.uSize = usize;
    d.fFrameTime = (F32)fi->frame_time;
    d.uFrameNumber = (U32)fi->number;
    d.Brightness.fValue = (F32)fi->black;
    d.Saturation.fValue = (F32)fi->saturation;
    d.Shutter.fValue = (F32)fi->exposure;
    d.Gain.fValue = (F32)fi->gain_db;
    d.Temperature.fValue = (F32)fi->temperature;
    d.Gamma.fValue = (F32)fi->gamma;
    d.Trigger.fMode = fi->trigger[0];
    d.Trigger.fType = fi->trigger[1];
    d.Trigger.fPolarity = fi->trigger[2];
    d.Trigger.fDelay = fi->trigger[3];
    d.Trigger.fParameter = fi->trigger[4];
    for (int i = 0; i < GPIO_LINES; i++) {
        d.GPIO.fMode[i] = fi->gpio[0][i];
        d.GPIO.fPolarity[i] = fi->gpio[1][i];
        d.GPIO.fParameter1[i] = fi->gpio[2][i];
        d.GPIO.fParameter2[i] = fi->gpio[3][i];
        d.GPIO.fParameter3[i] = fi->gpio[4][i];
    }
    d.TriggerNumber.fValue = (F32)fi->trigger_number;
    d.FrameRate.fValue = (F32)(fi->fps_off ? fi->actual_fps : fi->fps_setting);
    d.Roi.fLeft = (F32)fi->g.left;
    d.Roi.fTop = (F32)fi->g.top;
    d.Roi.fWidth = (F32)fi->g.width;
    d.Roi.fHeight = (F32)fi->g.height;
    d.Flip.fHorizontal = (F32)fi->g.flip_h;
    d.Flip.fVertical = (F32)fi->g.flip_v;
    d.Decimation.fValue = (F32)fi->g.pa;
    d.PixelFormat.fValue = (F32)fi->desc_pf;
    d.DecimationMode.fValue = (F32)fi->g.pa_mode;
    if (fi->colour) {
        d.WhiteShading.fRedGain = (F32)fi->ws[0];
        d.WhiteShading.fGreenGain = (F32)fi->ws[1];
        d.WhiteShading.fBlueGain = (F32)fi->ws[2];
    }
    d.MaxPixelSize.fValue = (F32)fi->mps;
    d.PixelAddressingValue.fHorizontal = (F32)fi->g.pa_x;
    d.PixelAddressingValue.fVertical = (F32)fi->g.pa_y;
    d.dFrameTime = fi->frame_time;
    d.u64FrameNumber = fi->number;
    d.ActualFrameRate.fValue = (F32)fi->actual_fps;
    size_t n = usize < sizeof d ? usize : sizeof d;
    memcpy(out, &d, n);
}

void snapshot_frame(camera_t *c, const geom_t *g, frame_info_t *fi)
{
    memset(fi, 0, sizeof *fi);
    fi->g = *g;
    fi->exposure = (double)c->cur[FEATURE_SHUTTER].v[0];
    fi->gain_db = c->cur[FEATURE_GAIN].v[0];
    fi->scene = c->scene;
    memcpy(fi->cast, c->cast, sizeof fi->cast);
    fi->colour = c->prof->colour;
    fi->native_pf = c->prof->formats[0];
    for (int k = 0; k < 3; k++)
        fi->ws[k] = c->def[FEATURE_WHITE_SHADING].caps ? c->cur[FEATURE_WHITE_SHADING].v[k] : 1.0;
    fi->black = c->cur[FEATURE_BRIGHTNESS].v[0];
    fi->gamma = c->cur[FEATURE_GAMMA].mode == F_OFF ? 0.0 : c->cur[FEATURE_GAMMA].v[0];
    fi->saturation = c->def[FEATURE_SATURATION].caps ? c->cur[FEATURE_SATURATION].v[0] : 0.0;
    fi->mps = (U32)c->cur[FEATURE_MAX_PIXEL_SIZE].v[0];
    if (fi->mps < 8 || fi->mps > 16)
        fi->mps = 12;
    fi->desc_pf = pf_shift_phase(g->pf, g->flip_h ? (g->out_w - 1) & 1u : 0, g->flip_v ? (g->out_h - 1) & 1u : 0);
    fi->temperature = c->cur[FEATURE_SENSOR_TEMPERATURE].v[0];
    fi->fps_setting = c->cur[FEATURE_FRAME_RATE].v[0];
    fi->fps_off = c->cur[FEATURE_FRAME_RATE].mode == F_OFF;
    fi->actual_fps = 1.0 / frame_period(c, g);
    if (c->cur[FEATURE_TRIGGER].mode == F_OFF) /* free running: the defaults, type FREE_RUNNING (FEATURES.md 1) */
        for (int i = 0; i < 5; i++)
            fi->trigger[i] = c->def[FEATURE_TRIGGER].factory[i];
    else
        memcpy(fi->trigger, c->cur[FEATURE_TRIGGER].v, sizeof fi->trigger);
    gpio_desc(c, fi->gpio);
}

/* c->mu held: end of readout of the frame a grab at `now` gets, for the models without a hardware trigger;
 * *pk: its sequence number (in: the next one) */
static double frame_due(camera_t *c, int kind, int freerun, double now, double delay, double exposure, double ro,
                        double period, U64 *pk)
{
    if (kind == 1) { /* software trigger: this call triggers one exposure */
        double start = now > c->last_due ? now : c->last_due;
        return start + delay + exposure + ro;
    }
    if (freerun) { /* free-running sensor: frames nobody waits for are lost */
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

/* c->mu held: a hardware-trigger grab waits for a triggered frame (mu released while waiting).  ApiSuccess with
 * *out, or why the wait ended: ApiStreamStopped, ApiNoCameraError, ApiInvalidHandleError, ApiCameraTimeoutError
 * (nothing arrived within the camera's trigger timeout). */
static PXL_RETURN_CODE wait_triggered(camera_t *c, unsigned gen, unsigned epoch, frame_info_t *out)
{
    PXL_RETURN_CODE rc;
    double deadline = c->trig_timeout > 0 ? mono_now() + c->trig_timeout : 0.0;
    c->hw_waiters++;
    c->grabs_waiting++;
    ensure_cam_thread(c); /* it completes the triggered frames */
    for (;;) {
        rc = alive(c, gen);
        if (!rc && (c->epoch != epoch || c->stream_state != STREAM_START))
            rc = ApiStreamStopped;
        if (rc)
            break;
        if (c->nready > 0) {
            *out = c->ready[0];
            memmove(&c->ready[0], &c->ready[1], (size_t)(c->nready - 1) * sizeof c->ready[0]);
            c->nready--;
            break;
        }
        if (deadline > 0 && mono_now() >= deadline) {
            rc = ApiCameraTimeoutError;
            break;
        }
        if (deadline > 0) {
            struct timespec ts = abs_time(deadline);
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        } else {
            pthread_cond_wait(&c->cv, &c->mu);
        }
    }
    c->hw_waiters--;
    c->grabs_waiting--;
    return rc;
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
    int kind = trigger_kind(c);
    if (!pFrame) {
        if (bufsize == 0xFFFFFFFFu) { /* "trigger only" (FEATURES.md 11.3): the image goes to FRAME callbacks */
            if (kind == 1) {
                double now = mono_now();
                accept_trigger(c, now > c->last_due ? now : c->last_due, 0);
            }
            goto out;
        }
        FAIL(ApiNullPointerError, "pFrame is NULL");
    }
    if (!pDesc)
        FAIL(ApiNullPointerError, "pDescriptor is NULL");
    usize = pDesc->uSize;
    if (usize == 0)
        FAIL(ApiInvalidParameterError, "FRAME_DESC.uSize is 0");
    geom_t g = geometry(c);
    size_t need = g.bytes;
    if (need == 0) /* only reachable through the PxLEmu_SetFeatureValue back door */
        FAIL(ApiUnsupportedPixelFormatError, "pixel format %u cannot be streamed", g.pf);
    if (bufsize < need)
        FAIL(ApiBufferTooSmall, "frame buffer of %u bytes is smaller than the %zu-byte frame (%ux%u, format %u)",
             bufsize, need, g.out_w, g.out_h, g.pf);
    unsigned epoch = c->epoch;
    if (kind == 2) { /* hardware trigger: a frame an edge triggered (pxlemu_trigger.c) */
        rc = wait_triggered(c, gen, epoch, &fi);
        if (rc == ApiStreamStopped)
            FAIL(rc, "the stream was stopped while waiting for a trigger");
        if (rc == ApiNoCameraError)
            FAIL(rc, "camera %u was disconnected while waiting for a trigger", c->serial);
        if (rc == ApiCameraTimeoutError)
            FAIL(rc, "no triggered frame within %g s", c->trig_timeout);
        if (rc)
            goto out;
        if (fi.g.bytes > bufsize) /* cannot happen: geometry changes need a stopped stream */
            FAIL(ApiBufferTooSmall, "frame buffer of %u bytes is smaller than the %zu-byte frame", bufsize,
                 fi.g.bytes);
        if (fi.number > c->last_frame_number)
            c->last_frame_number = fi.number;
        deliver = 1;
        goto out;
    }
    double now = mono_now();
    double exposure = c->cur[FEATURE_SHUTTER].v[0], ro = readout_time(c, &g), period = frame_period(c, &g);
    double delay = kind == 1 ? c->cur[FEATURE_TRIGGER].v[3] : 0.0;
    U64 k = c->frame_seq + 1;
    /* a FRAME callback makes the sensor free-run (the callback gets every frame): grabs join that timeline */
    double due = frame_due(c, kind, g_freerun || has_frame_cb(c), now, delay, exposure, ro, period, &k);
    if (due > c->last_due)
        c->last_due = due; /* reserve the sensor (concurrent grabs queue up) */
    if (kind == 1) { /* this call is the software trigger */
        c->trig_accepted++;
        if (due > c->busy_until)
            c->busy_until = due;
    }
    c->grabs_waiting++;
    for (;;) {
        rc = alive(c, gen);
        if (!rc && (c->epoch != epoch || c->stream_state != STREAM_START))
            rc = ApiStreamStopped;
        if (rc || mono_now() >= due)
            break;
        struct timespec ts = abs_time(due);
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    c->grabs_waiting--;
    if (rc == ApiNoCameraError)
        FAIL(rc, "camera %u was disconnected while waiting for a frame", c->serial);
    if (rc == ApiStreamStopped)
        FAIL(rc, "the stream was stopped while waiting for a frame");
    if (rc)
        goto out;
    if (k <= c->frame_seq)
        k = c->frame_seq + 1;
    snapshot_frame(c, &g, &fi);
    fi.exposure = (double)(F32)exposure; /* what the frame was taken with (AUTO may change it below) */
    fi.actual_fps = 1.0 / period;
    fi.frame_time = due - ro - c->t0; /* latched at the end of the exposure (FEATURES.md 17) */
    number_frame(c, k, &fi, due - ro - exposure, due - ro);
    c->last_frame_number = fi.number;
    account_delivery(c, fi.number, fi.frame_time);
    if (kind == 1 && has_frame_cb(c))
        push_cb_frame(c, &fi);
    deliver = 1;
out:
    rc = cam_leave(c, rc);
    if (deliver) { /* from a copy of the settings (fi), without any lock */
        if (render_frame((U8 *)pFrame, &fi) != 0)
            return ApiOutOfMemoryError;
        fill_desc(pDesc, usize, &fi);
    }
    return rc;
}
