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

static const U32 supported_pixel_formats[] = {PIXEL_FORMAT_MONO8, PIXEL_FORMAT_MONO16, PIXEL_FORMAT_BAYER8_RGGB,
                                              PIXEL_FORMAT_BAYER16_RGGB};

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
static float to_roi_step(float v, const FEATURE_PARAM *lim)
{
    (void)lim;
    return (float)(rnd((double)v / ROI_STEP) * ROI_STEP);
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

/* Each adjuster gets the new values v (n given, the rest current, all within the limits), adjusts them in
 * place and returns ApiSuccess, ApiSuccessParametersChanged (a value was adjusted) or a refusal (REFUSE). */
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

static PXL_RETURN_CODE adjust_trigger(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    int changed = quantize(v, n < 3 ? n : 3, to_int, d); /* MODE, TYPE, POLARITY are integers */
    int m = (int)v[0];
    if (!(m <= 5 || m == 14))
        return REFUSE(ApiInvalidParameterError, "unsupported TRIGGER mode %d (0-5 or 14)", m);
    return changed_rc(changed);
}

static PXL_RETURN_CODE adjust_roi(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    int changed = quantize(v, n, to_roi_step, d);
    if (v[2] < ROI_MIN)
        v[2] = ROI_MIN;
    if (v[3] < ROI_MIN)
        v[3] = ROI_MIN;
    if (v[0] < 0 || v[1] < 0 || v[0] + v[2] > (float)c->width || v[1] + v[3] > (float)c->height)
        return REFUSE(ApiOutOfRangeError, "ROI %gx%g at (%g,%g) does not fit the %ux%u sensor", (double)v[2],
                      (double)v[3], (double)v[0], (double)v[1], c->width, c->height);
    return changed_rc(changed);
}

static PXL_RETURN_CODE adjust_pixel_addressing(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    int changed = quantize(v, 2, to_int, d); /* VALUE, MODE */
    float val = v[0];
    if (!(val == 1 || val == 2 || val == 4))
        return REFUSE(ApiInvalidParameterError, "unsupported PIXEL_ADDRESSING value %g (1, 2 or 4)", (double)val);
    /* only symmetric addressing is emulated: X_VALUE = Y_VALUE = VALUE */
    if ((n >= 3 && v[2] != val) || (n >= 4 && v[3] != val))
        changed = 1;
    v[2] = val;
    v[3] = val;
    return changed_rc(changed);
}

static PXL_RETURN_CODE adjust_pixel_format(camera_t *c, const featdef_t *d, F32 *v, U32 n)
{
    (void)n;
    int changed = quantize(v, 1, to_int, d);
    for (size_t i = 0; i < sizeof supported_pixel_formats / sizeof supported_pixel_formats[0]; i++)
        if (supported_pixel_formats[i] == (U32)v[0])
            return changed_rc(changed);
    return REFUSE(ApiInvalidParameterError,
                  "pixel format %g is not supported (0 MONO8, 1 MONO16, 7 BAYER8_RGGB, 10 BAYER16_RGGB)", (double)v[0]);
}

/* ================================================================ the descriptor table */

typedef struct {
    U32 caps;         /* capability flags; 0 = not supported (all other fields unused) */
    U32 factory_mode; /* F_MAN / F_OFF */
    struct {
        float min, max, factory;
    } p[MAXP];                                          /* parameters beyond the feature's count stay 0 */
    void (*sensor_limits)(featdef_t *d, U32 w, U32 h); /* limits that depend on the sensor size, or NULL */
    adjuster_t adjust;                                  /* set-time adjustment, or NULL (stored as given) */
} feature_desc_t;

static void roi_limits(featdef_t *d, U32 w, U32 h) /* LEFT, TOP, WIDTH, HEIGHT */
{
    const float lim[4][3] = {{0.0f, (float)(w - ROI_MIN), 0.0f},
                             {0.0f, (float)(h - ROI_MIN), 0.0f},
                             {(float)ROI_MIN, (float)w, (float)w},
                             {(float)ROI_MIN, (float)h, (float)h}};
    for (int i = 0; i < 4; i++) {
        d->lim[i].fMinValue = lim[i][0];
        d->lim[i].fMaxValue = lim[i][1];
        d->factory[i] = lim[i][2];
    }
}

static const feature_desc_t feature_table[FEATURES_TOTAL] = {
    /* stored only; does not change the pattern */
    [FEATURE_BRIGHTNESS] = {F_PRES | F_MAN | F_SWS | F_PERS, F_MAN, {{0.0f, 100.0f, 0.0f}}, NULL, NULL},
    /* stored only */
    [FEATURE_GAMMA] = {F_PRES | F_MAN | F_OFF | F_SWS | F_PERS, F_MAN, {{0.1f, 4.0f, 1.0f}}, NULL, NULL},
    /* seconds: VALUE, AUTO_MIN, AUTO_MAX */
    [FEATURE_SHUTTER] = {F_PRES | F_MAN | F_AUTO | F_ONE | F_SWS | F_PERS,
                         F_MAN,
                         {{1e-5f, 10.0f, 0.01f}, {1e-5f, 10.0f, 1e-4f}, {1e-5f, 10.0f, 1.0f}},
                         NULL,
                         adjust_shutter},
    /* dB */
    [FEATURE_GAIN] = {F_PRES | F_MAN | F_SWS | F_PERS, F_MAN, {{0.0f, 24.0f, 0.0f}}, NULL, adjust_gain},
    /* degrees C, read-only (back door: PxLEmu_SetFeatureValue) */
    [FEATURE_SENSOR_TEMPERATURE] = {F_PRES | F_RO, F_MAN, {{-40.0f, 100.0f, 40.0f}}, NULL, NULL},
    /* MODE, TYPE, POLARITY, DELAY (s), PARAMETER */
    [FEATURE_TRIGGER] = {F_PRES | F_MAN | F_OFF | F_PERS,
                         F_OFF,
                         {{0.0f, 14.0f, 0.0f},
                          {0.0f, 6.0f, 0.0f},
                          {0.0f, 1.0f, 0.0f},
                          {0.0f, 10.0f, 0.0f},
                          {0.0f, 1000.0f, 0.0f}},
                         NULL,
                         adjust_trigger},
    /* frames/s; OFF = as fast as exposure + readout allow */
    [FEATURE_FRAME_RATE] = {F_PRES | F_MAN | F_OFF | F_PERS, F_MAN, {{1.0f, 300.0f, 30.0f}}, NULL, NULL},
    /* LEFT, TOP, WIDTH, HEIGHT in sensor pixels, step 8 */
    [FEATURE_ROI] = {F_PRES | F_MAN | F_PERS, F_MAN, {{0}}, roi_limits, adjust_roi},
    /* VALUE {1,2,4}, MODE {0,1,2}, X_VALUE, Y_VALUE */
    [FEATURE_PIXEL_ADDRESSING] = {F_PRES | F_MAN | F_PERS,
                                  F_MAN,
                                  {{1.0f, 4.0f, 1.0f}, {0.0f, 2.0f, 0.0f}, {1.0f, 4.0f, 1.0f}, {1.0f, 4.0f, 1.0f}},
                                  NULL,
                                  adjust_pixel_addressing},
    [FEATURE_PIXEL_FORMAT] = {F_PRES | F_MAN | F_PERS,
                              F_MAN,
                              {{0.0f, (float)PIXEL_FORMAT_BAYER16_RGGB, (float)PIXEL_FORMAT_MONO8}},
                              NULL,
                              adjust_pixel_format},
    [FEATURE_MAX_PIXEL_SIZE] = {F_PRES | F_RO, F_MAN, {{12.0f, 12.0f, 12.0f}}, NULL, NULL},
    /* computed on read */
    [FEATURE_ACTUAL_FRAME_RATE] = {F_PRES | F_RO, F_MAN, {{0.0f, 100000.0f, 0.0f}}, NULL, NULL},
};

void setup_features(camera_t *c)
{
    memset(c->def, 0, sizeof c->def);
    for (int i = 0; i < FEATURES_TOTAL; i++) {
        const feature_desc_t *t = &feature_table[i];
        featdef_t *d = &c->def[i];
        d->nparams = canonical_nparams[i];
        if (!t->caps)
            continue;
        d->caps = t->caps;
        d->factory_mode = t->factory_mode;
        for (int p = 0; p < MAXP; p++) {
            d->lim[p].fMinValue = t->p[p].min;
            d->lim[p].fMaxValue = t->p[p].max;
            d->factory[p] = t->p[p].factory;
        }
        if (t->sensor_limits)
            t->sensor_limits(d, c->width, c->height);
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

void feature_values(const camera_t *c, U32 id, F32 *out)
{
    memcpy(out, c->cur[id].v, sizeof c->cur[id].v);
    if (id == FEATURE_SHUTTER && c->cur[id].mode == F_AUTO)
        out[0] = (F32)auto_exposure(c);
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
        if (d->caps)
            memcpy(prm, d->lim, d->nparams * sizeof(FEATURE_PARAM));
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
    adjuster_t adjust = feature_table[id].adjust;
    rc = adjust ? adjust(c, d, v, n) : ApiSuccess;
    if (rc < 0)
        goto out;
    memcpy(c->cur[id].v, v, sizeof v);
    if (mode == F_ONE) { /* one-time auto exposure: completes at once */
        c->cur[id].v[0] = (F32)auto_exposure(c);
        c->cur[id].mode = F_MAN;
    } else {
        c->cur[id].mode = mode;
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
