/*
 * stress.c - concurrency stress test of the emulator, meant for ThreadSanitizer / Valgrind:
 *
 *   (cd emulator && gcc -std=c11 -O1 -g -fsanitize=thread -pthread *.c -o /tmp/pxlemu-stress)
 *   /tmp/pxlemu-stress [seconds]
 *
 * (*.c there: the library's sources and this file.)
 *
 * Grabbing threads (two per camera) race against feature changes, stream stop/start, unplug/replug,
 * uninitialize/initialize and PxLEmu_Reset.  Every return code must be one the API documents for the
 * situation; the program exits 1 on an unexpected one.  Not part of the library.
 */
#define _GNU_SOURCE
#include "pxlemu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

PXL_RETURN_CODE PxLInitializeEx(U32, HANDLE *, U32);
PXL_RETURN_CODE PxLUninitialize(HANDLE);
PXL_RETURN_CODE PxLSetFeature(HANDLE, U32, U32, U32, const F32 *);
PXL_RETURN_CODE PxLGetFeature(HANDLE, U32, U32 *, U32 *, F32 *);
PXL_RETURN_CODE PxLSetStreamState(HANDLE, U32);
PXL_RETURN_CODE PxLGetNextFrame(HANDLE, U32, void *, FRAME_DESC *);
PXL_RETURN_CODE PxLGetNumberCamerasEx(CAMERA_ID_INFO *, U32 *);
PXL_RETURN_CODE PxLSetEventCallback(HANDLE, U32, void *, void *);
PXL_RETURN_CODE PxLSetCallback(HANDLE, U32, void *, void *);

static atomic_long callbacks;
static U32 on_event(U32 h, U32 id, double ts, U32 n, U8 *data, void *ctx)
{
    (void)h; (void)id; (void)ts; (void)n; (void)data; (void)ctx;
    callbacks++;
    return 0;
}
static U32 on_frame(U32 h, void *data, U32 format, const FRAME_DESC *d, void *ctx)
{
    (void)h; (void)format; (void)ctx;
    if (data && d)
        callbacks += ((volatile unsigned char *)data)[0] == 0xFF ? 2 : 1;
    return 0;
}

static const U32 serials[2] = {700000001, 700000002};
static _Atomic(HANDLE) handles[2];
static atomic_int stop_all;
static atomic_int bad;
static long grabs_ok, grabs_fail;
static pthread_mutex_t stat_mu = PTHREAD_MUTEX_INITIALIZER;

static int expected_grab_rc(PXL_RETURN_CODE rc)
{
    return rc == ApiSuccess || rc == ApiStreamStopped || rc == ApiNoCameraError || rc == ApiInvalidHandleError ||
           rc == ApiBufferTooSmall || rc == ApiCameraTimeoutError;
}

static void *grabber(void *arg)
{
    int cam = (int)(intptr_t)arg;
    size_t cap = 256 * 256 * 2;
    unsigned char *buf = malloc(cap);
    while (!stop_all) {
        FRAME_DESC d;
        memset(&d, 0, sizeof d);
        d.uSize = sizeof d;
        PXL_RETURN_CODE rc = PxLGetNextFrame(handles[cam], (U32)cap, buf, &d);
        if (!expected_grab_rc(rc)) {
            fprintf(stderr, "unexpected grab rc 0x%08x\n", (unsigned)rc);
            bad = 1;
        }
        pthread_mutex_lock(&stat_mu);
        if (rc == ApiSuccess)
            grabs_ok++;
        else
            grabs_fail++;
        pthread_mutex_unlock(&stat_mu);
        if (rc != ApiSuccess)
            usleep(1000);
    }
    free(buf);
    return NULL;
}

static void open_cam(int cam)
{
    HANDLE h = NULL;
    if (PxLInitializeEx(serials[cam], &h, 0) != ApiSuccess)
        return;
    F32 roi[4] = {0, 0, 256, 256}, exp[1] = {0.002f};
    PxLSetFeature(h, FEATURE_ROI, FEATURE_FLAG_MANUAL, 4, roi);
    PxLSetFeature(h, FEATURE_SHUTTER, FEATURE_FLAG_MANUAL, 1, exp);
    PxLSetStreamState(h, STREAM_START);
    handles[cam] = h;
}

static void *chaos(void *arg)
{
    (void)arg;
    unsigned seed = 12345;
    while (!stop_all) {
        int cam = rand_r(&seed) % 2;
        HANDLE h = handles[cam];
        switch (rand_r(&seed) % 13) {
        case 0: PxLSetStreamState(h, STREAM_STOP); break;
        case 1: PxLSetStreamState(h, STREAM_START); break;
        case 2: {
            F32 e[1] = {(F32)(0.001 + (rand_r(&seed) % 5) * 0.001)};
            PxLSetFeature(h, FEATURE_SHUTTER, FEATURE_FLAG_MANUAL, 1, e);
            break;
        }
        case 3: PxLEmu_Unplug(serials[cam]); break;
        case 4: PxLEmu_Replug(serials[cam]); break;
        case 5:
            PxLUninitialize(h);
            open_cam(cam);
            break;
        case 6: {
            U32 flags, n = 0;
            PxLGetFeature(h, FEATURE_SHUTTER, &flags, &n, NULL);
            U32 count = 0;
            PxLGetNumberCamerasEx(NULL, &count);
            break;
        }
        case 7:
            if (rand_r(&seed) % 20 == 0) {
                PxLEmu_Reset();
                open_cam(0);
                open_cam(1);
            }
            break;
        case 8: {
            char reply[256];
            PxLEmu_Command("handles", reply, sizeof reply);
            PxLEmu_DropFrames(serials[cam], 1);
            break;
        }
        case 9: { /* issue 13: trigger type 0/1/2 (needs a stopped stream) */
            F32 t[5] = {(F32)(rand_r(&seed) % 2 ? 0 : 14), (F32)(rand_r(&seed) % 3), 0, 0, 2};
            PxLSetStreamState(h, STREAM_STOP);
            PxLSetFeature(h, FEATURE_TRIGGER, rand_r(&seed) % 3 ? FEATURE_FLAG_MANUAL : FEATURE_FLAG_OFF, 5, t);
            PxLSetStreamState(h, STREAM_START);
            break;
        }
        case 10: PxLEmu_TriggerBurst(serials[cam], rand_r(&seed) % 20, 0.002f, -1.0f); break;
        case 11:
            PxLSetEventCallback(h, rand_r(&seed) % 10, NULL, rand_r(&seed) % 3 ? (void *)on_event : NULL);
            PxLSetCallback(h, CALLBACK_FRAME, NULL, rand_r(&seed) % 2 ? (void *)on_frame : NULL);
            break;
        case 12:
            PxLEmu_SetInput(serials[cam], rand_r(&seed) % 2);
            PxLGetNextFrame(h, 0xFFFFFFFFu, NULL, NULL);
            break;
        }
        usleep((useconds_t)(rand_r(&seed) % 3000));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    open_cam(0);
    open_cam(1);
    pthread_t g[4], c[2];
    for (int i = 0; i < 4; i++)
        pthread_create(&g[i], NULL, grabber, (void *)(intptr_t)(i % 2));
    for (int i = 0; i < 2; i++)
        pthread_create(&c[i], NULL, chaos, NULL);
    usleep((useconds_t)(seconds * 1e6));
    stop_all = 1;
    PxLEmu_Reset(); /* wakes every blocked grab */
    for (int i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    PxLEmu_Reset();
    for (int i = 0; i < 4; i++)
        pthread_join(g[i], NULL);
    printf("grabs ok %ld, failed %ld, open handles %d, callbacks %ld\n", grabs_ok, grabs_fail,
           PxLEmu_OpenHandleCount(), (long)callbacks);
    return bad || grabs_ok == 0;
}
