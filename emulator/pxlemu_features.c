/*
 * pxlemu_features.c - features: the descriptor table (capabilities, limits, factory values and the
 * set-time adjustment of each supported feature), PxLGetCameraFeatures, PxLGetFeature, PxLSetFeature,
 * PxLLoadSettings / PxLSaveSettings.  The table in emulator/README.md describes the same features.
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <string.h>

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

static const char SET_FN[] = "PxLSetFeature";

/* c->mu held: record a refusal of PxLSetFeature and return its code */
#define REFUSE(code, ...) (set_err(c, SET_FN, (code), __VA_ARGS__), (code))

/* ================================================================ set-time adjustments */

typedef float (*quantizer_t)(float v, const FEATURE_PARAM *lim);

static float to_us(float v, const FEATURE_PARAM *lim) /* the sensor's exposure resolution is 1 us */
{
    float q = (float)(rnd((double)v * 1e6) / 1e6);
    return q < lim->fMinValue ? lim->fMinValue : q;
}
static float to_tenth(float v, const FEATURE_PARAM *lim) { (void)lim; return (float)(rnd((double)v * 10.0) / 10.0); }
static float to_int(float v, const FEATURE_PARAM *lim) { (void)lim; return (float)rnd(v); }
static float to_64th(float v, const FEATURE_PARAM *lim) /* white-shading gain resolution 1/64 (FEATURES.md 8) */
{
    (void)lim;
    return (float)(rnd((double)v * 64.0) / 64.0);
}

/* v[i] = q(v[i]) for i < n; 1 if that changed a value */
static int quantize(F32 *v, U32 n, quantizer_t q, const featdef_t *d)
{
    int changed = 0;
    for (U32 i = 0; i < n; i++) {
        float x = q(v[i], &d->lim[i]);
        if (x != v[i])
            changed = 1;
        v[i] = x;
    }
    return changed;
}

static PXL_RETURN_CODE changed_rc(int changed) { return changed ? ApiSuccessParametersChanged : ApiSuccess; }

/* Each adjuster gets the new values v (the first n given, the rest current, all within the limits; with AUTO /
 * ONEPUSH the ignored VALUE is the current one), adjusts them in place and returns ApiSuccess,
 * ApiSuccessParametersChanged (a value was adjusted) or a refusal (REFUSE). */
typedef PXL_RETURN_CODE (*adjuster_t)(camera_t *c, const featdef_t *d, F32 *v, U32 n);

static PXL_RETURN_CODE adjust_shutter(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    int changed = quantize(v, n, to_us, d);
    if (v[1] > v[2])
        return REFUSE(ApiInvalidParameterError, "SHUTTER AUTO_MIN %g is greater than AUTO_MAX %g", (double)v[1],
                      (double)v[2]);
    return changed_rc(changed);
}

static PXL_RETURN_CODE adjust_gain(camera_t *c, const featdef_t *d, F32 *v, U32 n) /* 0.1 dB steps */
{
    (void)c;
    int changed = quantize(v, 1, to_tenth, d);
    return changed_rc(n >= 1 && changed);
}

static PXL_RETURN_CODE adjust_white_shading(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    (void)c;
    return changed_rc(quantize(v, n, to_64th, d));
}

static PXL_RETURN_CODE adjust_trigger(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    int changed = quantize(v, n < 3 ? n : 3, to_int, d); /* MODE, TYPE, POLARITY are integers */
    int m = (int)v[0];
    /* modes of this camera: 0 (edge, SHUTTER), 1 (pulse width), 4 and 14 (PARAMETER frames per trigger); the
     * others of FEATURES.md 11.1 are refused, as a camera without them answers the GUI's trial sets */
    if (!(m == 0 || m == 1 || m == 4 || m == 14))
        return REFUSE(ApiInvalidParameterError, "TRIGGER mode %d is not supported by this camera (0, 1, 4, 14)", m);
    if (n > 4 && v[4] != (F32)rnd(v[4])) { /* PARAMETER: a frame count */
        v[4] = (F32)rnd(v[4]);
        changed = 1;
    }
    return changed_rc(changed);
}

static PXL_RETURN_CODE adjust_flip(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    (void)c;
    return changed_rc(quantize(v, n, to_int, d)); /* 0 off, 1 on */
}

static float snap_down(float v, U32 step) { return (float)(flr((double)v / step) * step); }

/* FEATURES.md 2 [DESIGN]: snap down to the profile's steps, clamp into the sensor, 1 when changed; a width or
 * height below the minimum was already refused by the range check (ApiOutOfRangeError) */
static PXL_RETURN_CODE adjust_roi(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    (void)d;
    (void)n;
    const profile_t *p = c->prof;
    F32 in[4];
    memcpy(in, v, sizeof in);
    const U32 step[4] = {p->step_l, p->step_t, p->step_w, p->step_h};
    for (int i = 0; i < 4; i++)
        v[i] = snap_down(v[i], step[i]);
    if (v[0] + v[2] > (float)c->width) /* keep the offset, shrink the size to what fits */
        v[2] = snap_down((float)c->width - v[0], p->step_w);
    if (v[1] + v[3] > (float)c->height)
        v[3] = snap_down((float)c->height - v[1], p->step_h);
    if (v[2] < (float)p->min_w || v[3] < (float)p->min_h) /* cannot happen: LEFT <= width - min_w */
        return REFUSE(ApiOutOfRangeError, "ROI %gx%g at (%g,%g) does not fit the %ux%u sensor", (double)in[2],
                      (double)in[3], (double)in[0], (double)in[1], c->width, c->height);
    return changed_rc(memcmp(in, v, sizeof in) != 0);
}

/* VALUE, MODE, X_VALUE, Y_VALUE.  n <= 2 (or only VALUE changed): symmetric, X = Y = VALUE; otherwise X and Y
 * win and VALUE reports X.  Modes and factors the profile lacks: ApiInvalidParameterError (those beyond the
 * limits were refused with ApiOutOfRangeError by the range check). */
static PXL_RETURN_CODE adjust_pixel_addressing(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    const F32 *cur = c->cur[FEATURE_PIXEL_ADDRESSING].v;
    F32 in[4];
    memcpy(in, v, sizeof in);
    quantize(v, 4, to_int, d);
    int mode = (int)v[1];
    if (!(c->prof->pa_modes & (1u << mode)))
        return REFUSE(ApiInvalidParameterError, "PIXEL_ADDRESSING mode %d is not supported by this camera", mode);
    int symmetric = n <= 2 || (v[2] == cur[2] && (n < 4 || v[3] == cur[3]) && v[0] != cur[0]);
    if (symmetric)
        v[2] = v[3] = v[0];
    else
        v[0] = v[2];
    for (int i = 2; i < 4; i++) {
        U32 f = (U32)v[i];
        if (f > 8 || !(c->prof->pa_values & (1u << f)))
            return REFUSE(ApiInvalidParameterError, "PIXEL_ADDRESSING %s factor %u is not supported by this camera",
                          i == 2 ? "X" : "Y", f);
    }
    int changed = 0;
    for (U32 i = 0; i < 4; i++)
        if (i < n && v[i] != in[i])
            changed = 1;
    return changed_rc(changed);
}

/* the generic BAYER8 / BAYER16 / BAYER12_PACKED values (= the GRBG ones) map to the colour sensor's native phase */
static U32 native_format(const profile_t *p, U32 pf)
{
    if (!p->colour || !pf_is_bayer(pf))
        return pf;
    for (U32 i = 0; i < p->nformats; i++) {
        U32 f = p->formats[i];
        if (pf_is_packed12(f) == pf_is_packed12(pf) && pf_bpp(f) == pf_bpp(pf))
            return f;
    }
    return pf;
}

static PXL_RETURN_CODE adjust_pixel_format(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    (void)n;
    int changed = quantize(v, 1, to_int, d);
    U32 pf = (U32)v[0];
    const profile_t *p = c->prof;
    if (pf == PIXEL_FORMAT_BAYER8_GRBG || pf == PIXEL_FORMAT_BAYER16_GRBG || pf == PIXEL_FORMAT_BAYER12_GRBG_PACKED) {
        U32 nat = native_format(p, pf);
        if (nat != pf) {
            v[0] = (F32)nat;
            pf = nat;
            changed = 1;
        }
    }
    for (U32 i = 0; i < p->nformats; i++)
        if (p->formats[i] == pf)
            return changed_rc(changed);
    return REFUSE(ApiInvalidParameterError, "pixel format %u is not supported by this %s camera", pf,
                  p->colour ? "colour" : "mono");
}

/* ================================================================ the descriptor table */

enum { ON_ALL = 0, ON_COLOUR = 1 };

typedef struct {
    U32 caps;         /* capability flags; 0 = not supported (all other fields unused) */
    U32 factory_mode; /* F_MAN / F_OFF */
    struct {
        float min, max, factory;
    } p[MAXP];                                             /* parameters beyond the feature's count stay 0 */
    void (*profile_limits)(featdef_t *d, const camera_t *c); /* limits from the sensor / profile, or NULL */
    adjuster_t adjust;                                     /* set-time adjustment, or NULL (stored as given) */
    int only;                                              /* ON_COLOUR: absent on mono cameras */
} feature_desc_t;

static void roi_limits(featdef_t *d, const camera_t *c) /* LEFT, TOP, WIDTH, HEIGHT */
{
    const profile_t *p = c->prof;
    U32 w = c->width, h = c->height;
    const float lim[4][3] = {{0.0f, snap_down((float)(w - p->min_w), p->step_l), 0.0f},
                             {0.0f, snap_down((float)(h - p->min_h), p->step_t), 0.0f},
                             {(float)p->min_w, (float)w, (float)w},
                             {(float)p->min_h, (float)h, (float)h}};
    for (int i = 0; i < 4; i++) {
        d->lim[i].fMinValue = lim[i][0];
        d->lim[i].fMaxValue = lim[i][1];
        d->factory[i] = lim[i][2];
    }
}

static U32 lowest_bit(U32 m) { U32 i = 0; while (i < 31 && !(m & (1u << i))) i++; return i; }
static U32 highest_bit(U32 m) { U32 i = 31; while (i > 0 && !(m & (1u << i))) i--; return i; }

static void pa_limits(featdef_t *d, const camera_t *c) /* VALUE, MODE, X_VALUE, Y_VALUE */
{
    const profile_t *p = c->prof;
    float fmax = (float)highest_bit(p->pa_values);
    d->lim[1].fMinValue = (float)lowest_bit(p->pa_modes);
    d->lim[1].fMaxValue = (float)highest_bit(p->pa_modes);
    for (int i = 0; i < 4; i += (i == 0 ? 2 : 1)) {
        d->lim[i].fMinValue = 1.0f;
        d->lim[i].fMaxValue = fmax;
    }
}

static void pf_limits(featdef_t *d, const camera_t *c)
{
    d->lim[0].fMinValue = (float)c->prof->pf_min;
    d->lim[0].fMaxValue = (float)c->prof->pf_max;
    d->factory[0] = (float)c->prof->formats[0];
}

static void mps_limits(featdef_t *d, const camera_t *c)
{
    d->lim[0].fMinValue = d->lim[0].fMaxValue = d->factory[0] = (float)c->prof->max_pixel_size;
}

static const feature_desc_t feature_table[FEATURES_TOTAL] = {
    /* black level, percent of full scale added to every pixel (FEATURES.md 8) */
    [FEATURE_BRIGHTNESS] = {F_PRES | F_MAN | F_SWS | F_PERS, F_MAN, {{0.0f, 100.0f, 0.0f}}, NULL, NULL, ON_ALL},
    /* percent; stored and reported in frame descriptors (raw Bayer frames carry no saturation) */
    [FEATURE_SATURATION] = {F_PRES | F_MAN | F_SWS | F_PERS, F_MAN, {{0.0f, 200.0f, 100.0f}}, NULL, NULL, ON_COLOUR},
    /* out = full * (in / full)^(1/gamma); OFF = linear */
    [FEATURE_GAMMA] = {F_PRES | F_MAN | F_OFF | F_SWS | F_PERS, F_MAN, {{0.1f, 4.0f, 1.0f}}, NULL, NULL, ON_ALL},
    /* seconds: VALUE, AUTO_MIN, AUTO_MAX */
    [FEATURE_SHUTTER] = {F_PRES | F_MAN | F_AUTO | F_ONE | F_SWS | F_PERS,
                         F_MAN,
                         {{1e-5f, 10.0f, 0.01f}, {1e-5f, 10.0f, 1e-4f}, {1e-5f, 10.0f, 1.0f}},
                         NULL,
                         adjust_shutter,
                         ON_ALL},
    /* dB */
    [FEATURE_GAIN] = {F_PRES | F_MAN | F_AUTO | F_ONE | F_SWS | F_PERS, F_MAN, {{0.0f, 24.0f, 0.0f}}, NULL,
                      adjust_gain, ON_ALL},
    /* degrees C, read-only (back door: PxLEmu_SetFeatureValue) */
    [FEATURE_SENSOR_TEMPERATURE] = {F_PRES | F_RO, F_MAN, {{-40.0f, 100.0f, 40.0f}}, NULL, NULL, ON_ALL},
    /* BODY_TEMPERATURE, degrees C, read-only (PL-D and PL-X have it, FEATURES.md 13) */
    [FEATURE_BODY_TEMPERATURE] = {F_PRES | F_RO, F_MAN, {{-40.0f, 100.0f, 45.0f}}, NULL, NULL, ON_ALL},
    /* INDEX (1-based line), MODE, POLARITY, PARAM_1..3 (s; PULSE: NUMBER, DURATION, INTERVAL): per line, kept in
     * camera_t.gpio (pxlemu_trigger.c); 2 lines and modes 0-5 of a PL-D USB3 camera (FEATURES.md 12) */
    [FEATURE_GPIO] = {F_PRES | F_MAN | F_OFF | F_SWS,
                      F_OFF,
                      {{1.0f, (float)GPIO_LINES, 1.0f},
                       {0.0f, 5.0f, 1.0f},
                       {0.0f, 1.0f, 0.0f},
                       {0.0f, 1000.0f, 0.0f},
                       {0.0f, 10.0f, 0.0f},
                       {0.0f, 10.0f, 0.0f}},
                      NULL,
                      NULL,
                      ON_ALL},
    /* MODE, TYPE, POLARITY, DELAY (s), PARAMETER */
    [FEATURE_TRIGGER] = {F_PRES | F_MAN | F_OFF | F_PERS,
                         F_OFF,
                         {{0.0f, 14.0f, 0.0f},
                          {0.0f, 2.0f, 0.0f}, /* FREE_RUNNING, SOFTWARE, HARDWARE (= LINE1): no actions, one line */
                          {0.0f, 1.0f, 0.0f},
                          {0.0f, 10.0f, 0.0f},
                          {0.0f, 1000.0f, 0.0f}},
                         NULL,
                         adjust_trigger,
                         ON_ALL},
    /* frames/s, a target; max = 1 / readout (dynamic, live_limits); OFF = as fast as exposure + readout allow */
    [FEATURE_FRAME_RATE] = {F_PRES | F_MAN | F_OFF | F_PERS, F_MAN, {{1.0f, 1000.0f, 30.0f}}, NULL, NULL, ON_ALL},
    /* LEFT, TOP, WIDTH, HEIGHT in sensor pixels, the profile's steps */
    [FEATURE_ROI] = {F_PRES | F_MAN | F_PERS, F_MAN, {{0}}, roi_limits, adjust_roi, ON_ALL},
    /* HORIZONTAL, VERTICAL (0/1); done in software: not persistable, reset when the controlling handle goes */
    [FEATURE_FLIP] = {F_PRES | F_MAN, F_MAN, {{0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 0.0f}}, NULL, adjust_flip, ON_ALL},
    /* VALUE, MODE, X_VALUE, Y_VALUE; modes and factors from the profile */
    [FEATURE_PIXEL_ADDRESSING] = {F_PRES | F_MAN | F_PERS,
                                  F_MAN,
                                  {{1.0f, 8.0f, 1.0f}, {0.0f, 2.0f, 0.0f}, {1.0f, 8.0f, 1.0f}, {1.0f, 8.0f, 1.0f}},
                                  pa_limits,
                                  adjust_pixel_addressing,
                                  ON_ALL},
    [FEATURE_PIXEL_FORMAT] = {F_PRES | F_MAN | F_PERS, F_MAN, {{0}}, pf_limits, adjust_pixel_format, ON_ALL},
    /* RED, GREEN, BLUE gains (unity 1.0, step 1/64); ONEPUSH balances the scene's colour cast */
    [FEATURE_WHITE_SHADING] = {F_PRES | F_MAN | F_ONE | F_SWS | F_PERS,
                               F_MAN,
                               {{0.0f, 4.0f, 1.0f}, {0.0f, 4.0f, 1.0f}, {0.0f, 4.0f, 1.0f}},
                               NULL,
                               adjust_white_shading,
                               ON_COLOUR},
    [FEATURE_MAX_PIXEL_SIZE] = {F_PRES | F_RO, F_MAN, {{12.0f, 12.0f, 12.0f}}, mps_limits, NULL, ON_ALL},
    /* computed on read: min(FRAME_RATE target, 1 / (exposure + readout)); max dynamic like FRAME_RATE */
    [FEATURE_ACTUAL_FRAME_RATE] = {F_PRES | F_RO, F_MAN, {{0.0f, 1000.0f, 0.0f}}, NULL, NULL, ON_ALL},
};

void setup_features(camera_t *c)
{
    memset(c->def, 0, sizeof c->def);
    for (int i = 0; i < FEATURES_TOTAL; i++) {
        const feature_desc_t *t = &feature_table[i];
        featdef_t *d = &c->def[i];
        d->nparams = canonical_nparams[i];
        if (!t->caps || (t->only == ON_COLOUR && !c->prof->colour))
            continue;
        d->caps = t->caps;
        d->factory_mode = t->factory_mode;
        for (int p = 0; p < MAXP; p++) {
            d->lim[p].fMinValue = t->p[p].min;
            d->lim[p].fMaxValue = t->p[p].max;
            d->factory[p] = t->p[p].factory;
        }
        if (t->profile_limits)
            t->profile_limits(d, c);
        if (g_no_sws_mask & (1ULL << i))
            d->caps &= ~(U32)F_SWS;
    }
}

void load_factory(const camera_t *c, featval_t *dst)
{
    for (int i = 0; i < FEATURES_TOTAL; i++) {
        memset(&dst[i], 0, sizeof dst[i]);
        for (U32 p = 0; p < MAXP; p++)
            dst[i].v[p] = c->def[i].factory[p];
        dst[i].mode = c->def[i].factory_mode ? c->def[i].factory_mode : F_MAN;
    }
}

void release_control(camera_t *c)
{
    /* FLIP is done by the API on the host: lost with the controlling handle (FEATURES.md 9) */
    c->cur[FEATURE_FLIP].v[0] = c->def[FEATURE_FLIP].factory[0];
    c->cur[FEATURE_FLIP].v[1] = c->def[FEATURE_FLIP].factory[1];
}

void live_limits(const camera_t *c, U32 id, FEATURE_PARAM *lim)
{
    memcpy(lim, c->def[id].lim, sizeof c->def[id].lim);
    if (id == FEATURE_FRAME_RATE || id == FEATURE_ACTUAL_FRAME_RATE) {
        double mx = max_frame_rate(c);
        lim[0].fMaxValue = (F32)(flr(mx * 1000.0) / 1000.0);
    }
}

void feature_values(const camera_t *c, U32 id, F32 *out)
{
    memcpy(out, c->cur[id].v, sizeof c->cur[id].v);
    if (id == FEATURE_TRIGGER && c->cur[id].mode == F_OFF) /* OFF reads the defaults (FEATURES.md 1) */
        memcpy(out, c->def[id].factory, sizeof c->def[id].factory);
    if (id == FEATURE_ACTUAL_FRAME_RATE) {
        geom_t g = geometry(c);
        out[0] = (F32)(1.0 / frame_period(c, &g));
    }
}

/* ================================================================ the calls */

PXL_RETURN_CODE impl_GetCameraFeatures(HANDLE h, U32 id, CAMERA_FEATURES *p, U32 *psize)
{
    CAM_ENTER("PxLGetCameraFeatures", ACCESS_ANY, NULL, NULL);
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
        if (d->caps) {
            FEATURE_PARAM lim[MAXP];
            live_limits(c, i, lim);
            memcpy(prm, lim, d->nparams * sizeof(FEATURE_PARAM));
        }
        prm += d->nparams;
    }
    p->uSize = (U32)need;
    p->uNumberOfFeatures = nf;
    p->pFeatures = feats;
    *psize = (U32)need;
out:
    return cam_leave(c, rc);
}

/* c->mu held: ApiNotSupportedError (recorded under fn) unless the camera supports feature id */
static PXL_RETURN_CODE check_supported(camera_t *c, const char *fn, U32 id)
{
    if (id < FEATURES_TOTAL && (c->def[id].caps & F_PRES))
        return ApiSuccess;
    set_err(c, fn, ApiNotSupportedError, "feature %u (%s) is not supported by this camera", id,
            id < FEATURES_TOTAL ? feature_names[id] : "unknown");
    return ApiNotSupportedError;
}

PXL_RETURN_CODE impl_GetFeature(HANDLE h, U32 id, U32 *pFlags, U32 *pN, F32 *pParams)
{
    CAM_ENTER("PxLGetFeature", ACCESS_ANY, NULL, NULL);
    if (!pFlags || !pN)
        FAIL(ApiNullPointerError, "pFlags or pNumberOfParams is NULL");
    rc = check_supported(c, FN, id);
    if (rc)
        goto out;
    if (id == FEATURE_GPIO) { /* per line: params[0] is the index asked for (FEATURES.md 12.1) */
        rc = gpio_get(c, FN, pFlags, pN, pParams);
        goto out;
    }
    const char *fname = feature_names[id];
    U32 n = c->def[id].nparams;
    *pFlags = F_PRES | c->cur[id].mode;
    if (!pParams) {
        *pN = n;
        goto out;
    }
    if (*pN < n) {
        U32 given = *pN;
        *pN = n;
        FAIL(ApiBufferTooSmall, "%s has %u parameters, room for %u given", fname, n, given);
    }
    F32 vals[MAXP];
    feature_values(c, id, vals);
    memcpy(pParams, vals, n * sizeof(F32));
    *pN = n;
out:
    return cam_leave(c, rc);
}

/* FEATURES.md 1 [DESIGN]: OFF wins (MANUAL|OFF = disable), else ONEPUSH > AUTO > MANUAL; no mode bit = MANUAL */
static U32 decode_mode(U32 flags)
{
    U32 m = flags & FEATURE_FLAG_MOD_BITS;
    if (m & F_OFF)
        return F_OFF;
    if (m & F_ONE)
        return F_ONE;
    if (m & F_AUTO)
        return F_AUTO;
    return F_MAN;
}

PXL_RETURN_CODE impl_SetFeature(HANDLE h, U32 id, U32 flags, U32 n, const F32 *p)
{
    U32 hflags;
    CAM_ENTER(SET_FN, ACCESS_ANY, NULL, &hflags);
    rc = check_supported(c, FN, id);
    if (rc)
        goto out;
    const char *fname = feature_names[id];
    const featdef_t *d = &c->def[id];
    if (d->caps & F_RO)
        FAIL(ApiNotSupportedError, "%s is read-only", fname);
    if (hflags & INIT_MONITOR_ACCESS_ONLY)
        FAIL(ApiRequiresControlAccess, "handle has monitor access only");
    if (c->stream_state == STREAM_START && !(d->caps & F_SWS))
        FAIL(ApiNotPermittedWhileStreaming, "%s cannot be changed while streaming; stop the stream first", fname);
    U32 mode = decode_mode(flags);
    if (!(d->caps & mode))
        FAIL(ApiInvalidParameterError, "%s does not support mode flag 0x%x", fname, mode);
    if (n > d->nparams)
        FAIL(ApiInvalidParameterError, "%s has %u parameters, %u given", fname, d->nparams, n);
    if (n > 0 && !p)
        FAIL(ApiNullPointerError, "pParams is NULL");
    if (id == FEATURE_GPIO) {
        rc = gpio_set(c, FN, mode, n, p);
        goto out;
    }
    if (mode == F_OFF) { /* disabling keeps the values: a value sent with OFF changes nothing (FEATURES.md 1) */
        c->cur[id].mode = F_OFF;
        c->op_frames[id] = 0;
        goto out;
    }
    if (n == 0 && mode == F_MAN)
        FAIL(ApiInvalidParameterError, "no parameter given for %s", fname);
    /* AUTO / ONEPUSH: the value(s) that start the adjustment are ignored (the vendor's idiom passes 0,
     * FEATURES.md 6/8); SHUTTER's AUTO_MIN / AUTO_MAX still apply */
    U32 ignored = mode == F_MAN ? 0 : id == FEATURE_WHITE_SHADING ? d->nparams : 1;
    FEATURE_PARAM lim[MAXP];
    live_limits(c, id, lim);
    F32 v[MAXP];
    memcpy(v, c->cur[id].v, sizeof v);
    for (U32 i = ignored; i < n; i++) {
        if (!is_finite(p[i]))
            FAIL(ApiInvalidParameterError, "%s parameter %u is not a finite number", fname, i);
        if (p[i] < lim[i].fMinValue || p[i] > lim[i].fMaxValue)
            FAIL(ApiOutOfRangeError, "%s parameter %u = %g is out of range [%g, %g]", fname, i, (double)p[i],
                 (double)lim[i].fMinValue, (double)lim[i].fMaxValue);
        v[i] = p[i];
    }
    adjuster_t adjust = feature_table[id].adjust;
    rc = adjust ? adjust(c, d, v, n) : ApiSuccess;
    if (rc < 0)
        goto out;
    if (mode != F_MAN && rc == ApiSuccessParametersChanged && n <= ignored)
        rc = ApiSuccess;
    memcpy(c->cur[id].v, v, sizeof v);
    c->cur[id].mode = mode;
    c->op_frames[id] = 0;
    if (mode == F_ONE) {
        for (int k = 0; k < 3; k++)
            c->op_start[id][k] = c->cur[id].v[k];
        /* white shading measures without a stream too (the vendor's autoWhiteBalance sample does not stream) */
        if (id == FEATURE_WHITE_SHADING && c->stream_state != STREAM_START) {
            auto_target_white(c, c->cur[id].v);
            c->cur[id].mode = F_MAN;
        }
    }
out:
    return cam_leave(c, rc);
}

PXL_RETURN_CODE impl_Settings(HANDLE h, U32 channel, int save)
{
    CAM_ENTER(save ? "PxLSaveSettings" : "PxLLoadSettings", ACCESS_CONTROL, NULL, NULL);
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
    return cam_leave(c, rc);
}
