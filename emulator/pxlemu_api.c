/*
 * pxlemu_api.c - the exported API: the vendor PxL* functions (each counts the call, applies latency and
 * fault rules, then calls its impl_ function) and the PxLEmu_* control API (pxlemu.h) except
 * PxLEmu_Command (pxlemu_control.c).  Lock order: pxlemu_internal.h.
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <stdlib.h>
#include <string.h>

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
    return API_LEAVE(impl_SetCallback(hCamera, callbackType, pContext, (frame_fn_t)pfn));
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

/* after retiring cameras (g_mu released): wait until none of them runs a user callback, drop the references */
static void wait_retired(camera_t **gone, int n)
{
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&gone[i]->mu);
        wait_callbacks(gone[i]);
        pthread_mutex_unlock(&gone[i]->mu);
        put_cam(gone[i]);
    }
    pthread_mutex_lock(&g_mu);
    free_retired_locked();
    pthread_mutex_unlock(&g_mu);
}

PXLAPI int PxLEmu_Reset(void)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    camera_t *gone[64];
    int ngone = 0;
    while (g_cams) {
        camera_t *c = g_cams;
        g_cams = c->next;
        retire_camera_locked(c);
        if (ngone < 64) {
            c->refs++;
            gone[ngone++] = c;
        }
    }
    while (g_handles) {
        hrec_t *r = g_handles;
        g_handles = r->next;
        free(r);
    }
    load_profile_locked();
    pthread_mutex_unlock(&g_mu);
    wait_retired(gone, ngone);
    pthread_mutex_lock(&g_fmu);
    memset(g_f, 0, sizeof g_f);
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_AddCamera(U32 serial, const char *model, U32 width, U32 height)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    int rc = add_camera_locked(serial, model, width, height, NULL);
    pthread_mutex_unlock(&g_mu);
    return rc;
}

PXLAPI int PxLEmu_AddCameraEx(U32 serial, const char *model, U32 width, U32 height, const char *profile)
{
    const profile_t *prof = find_profile(profile);
    if (!prof)
        return -2;
    ensure_init();
    pthread_mutex_lock(&g_mu);
    int rc = add_camera_locked(serial, model, width, height, prof);
    pthread_mutex_unlock(&g_mu);
    return rc;
}

PXLAPI int PxLEmu_SetScene(U32 serial, float brightness, float red, float green, float blue)
{
    if (!(brightness >= 0.0f && brightness <= 1000.0f) || !is_finite(red) || !is_finite(green) || !is_finite(blue) ||
        red > 1000.0f || green > 1000.0f || blue > 1000.0f)
        return -2;
    camera_t *c = lock_cam(serial);
    if (c) {
        c->scene = brightness;
        const float rgb[3] = {red, green, blue};
        for (int k = 0; k < 3; k++)
            if (rgb[k] >= 0.0f)
                c->cast[k] = rgb[k];
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_GetProfile(U32 serial, char *buf, int size)
{
    if (!buf || size <= 0)
        return -2;
    camera_t *c = lock_cam(serial);
    if (c)
        copy_str(buf, (size_t)size, c->prof->name);
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_RemoveCamera(U32 serial)
{
    ensure_init();
    pthread_mutex_lock(&g_mu);
    camera_t **pp = &g_cams;
    while (*pp && (*pp)->serial != serial)
        pp = &(*pp)->next;
    camera_t *c = *pp;
    if (c) {
        *pp = c->next;
        retire_camera_locked(c);
        c->refs++;
    }
    pthread_mutex_unlock(&g_mu);
    if (c)
        wait_retired(&c, 1);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_Unplug(U32 serial)
{
    camera_t *c = lock_cam(serial);
    if (c && c->plugged) {
        c->plugged = 0;
        c->stream_state = STREAM_STOP;
        c->epoch++;
        clear_in_flight(c);
        c->burst.remaining = 0;
        /* delivered by the camera thread to every handle that registered for it (or for ANY) */
        queue_event(c, EVENT_CAMERA_DISCONNECTED, mono_now() - c->t0, 0);
        pthread_cond_broadcast(&c->cv);
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_Replug(U32 serial)
{
    camera_t *c = lock_cam(serial);
    if (c && !c->plugged) {
        c->gen++; /* every handle made before is now invalid */
        c->plugged = 1;
        power_up(c);
        pthread_cond_broadcast(&c->cv);
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_SetBootDelay(U32 serial, int milliseconds)
{
    if (milliseconds < 0)
        return -2;
    camera_t *c = lock_cam(serial);
    if (c)
        c->boot_delay_ms = milliseconds;
    unlock_cam(c);
    return c ? 0 : -1;
}

/* the fail-next (every = 0: next n calls) or fail-every (every = 1: every n-th call) rule of a function */
static int set_fail_rule(const char *function, int rc, int n, int every)
{
    fstate_t *f = lock_fstate(function);
    if (!f)
        return -1;
    if (every) {
        f->every_rc = rc;
        f->every_n = n > 0 ? n : 0;
        f->every_counter = 0;
    } else {
        f->fail_rc = rc;
        f->fail_count = n > 0 ? n : 0;
    }
    pthread_mutex_unlock(&g_fmu);
    return 0;
}

PXLAPI int PxLEmu_FailNext(const char *function, int rc, int count) { return set_fail_rule(function, rc, count, 0); }
PXLAPI int PxLEmu_FailEvery(const char *function, int rc, int n) { return set_fail_rule(function, rc, n, 1); }

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
    fstate_t *f = lock_fstate(function);
    if (!f)
        return -1;
    if (microseconds >= 0)
        f->latency_us = microseconds;
    pthread_mutex_unlock(&g_fmu);
    return microseconds >= 0 ? 0 : -2;
}

PXLAPI int PxLEmu_CallCount(const char *function)
{
    fstate_t *f = lock_fstate(function);
    if (!f)
        return -1;
    long long n = f->calls;
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
    if (n < 0)
        return -2;
    camera_t *c = lock_cam(serial);
    if (c)
        c->drop_total += (U64)n;
    unlock_cam(c);
    return c ? 0 : -1;
}

/* c->mu held: the feature and parameter exist on this camera */
static int feature_param_ok(const camera_t *c, U32 featureId, U32 paramIndex)
{
    return featureId < FEATURES_TOTAL && paramIndex < c->def[featureId].nparams && (c->def[featureId].caps & F_PRES);
}

PXLAPI float PxLEmu_GetFeatureValue(U32 serial, U32 featureId, U32 paramIndex)
{
    float v = __builtin_nanf("");
    camera_t *c = lock_cam(serial);
    if (c && feature_param_ok(c, featureId, paramIndex)) {
        F32 vals[MAXP];
        feature_values(c, featureId, vals);
        v = vals[paramIndex];
    }
    unlock_cam(c);
    return v;
}

PXLAPI int PxLEmu_SetFeatureValue(U32 serial, U32 featureId, U32 paramIndex, float value)
{
    int rc = -1;
    camera_t *c = lock_cam(serial);
    if (c) {
        rc = -2;
        if (feature_param_ok(c, featureId, paramIndex)) {
            c->cur[featureId].v[paramIndex] = value;
            rc = 0;
        }
    }
    unlock_cam(c);
    return rc;
}

PXLAPI int PxLEmu_GetStreamState(U32 serial)
{
    camera_t *c = lock_cam(serial);
    int s = c ? (int)c->stream_state : -1;
    unlock_cam(c);
    return s;
}

PXLAPI long long PxLEmu_LastFrameNumber(U32 serial)
{
    camera_t *c = lock_cam(serial);
    long long n = c ? (long long)c->last_frame_number : -1;
    unlock_cam(c);
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
