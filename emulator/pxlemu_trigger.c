/*
 * pxlemu_trigger.c - triggering, events, FRAME callbacks and GPIO (issue 13): the camera's input line
 * (hardware trigger / GPI #1, one opto-isolated input, FEATURES.md 11.4), triggered frame sequences,
 * missed triggers and skipped frames, the camera thread that completes triggered frames and calls the
 * user's event and FRAME callbacks, the GPIO feature (17) and the PxLEmu_* calls behind them.
 * Behaviour and sources: emulator/README.md "Triggering, events, callbacks, GPIO".  Lock order:
 * pxlemu_internal.h (the camera thread takes only its camera's mu, and never holds it in a callback).
 */
#define _GNU_SOURCE
#include "pxlemu_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double g_trig_timeout = DEFAULT_TRIGGER_TIMEOUT;

/* ================================================================ trigger state */

int trigger_kind(const camera_t *c)
{
    if (c->cur[FEATURE_TRIGGER].mode == F_OFF)
        return 0;
    int type = (int)c->cur[FEATURE_TRIGGER].v[1];
    return type == TRIGGER_TYPE_SOFTWARE ? 1 : type == TRIGGER_TYPE_HARDWARE ? 2 : 0;
}

int hw_trigger_armed(const camera_t *c) { return trigger_kind(c) == 2; }

int has_frame_cb(const camera_t *c)
{
    for (int i = 0; i < c->nregs; i++)
        if (c->regs[i].what == REG_FRAME && c->regs[i].gen == c->gen)
            return 1;
    return 0;
}

void clear_in_flight(camera_t *c)
{
    c->npend = 0;
    c->nready = 0;
    c->ncbframes = 0;
    c->busy_until = 0.0;
    c->cb_next_k = 0;
}

/* ================================================================ events */

void queue_event(camera_t *c, U32 id, double ts, U32 data)
{
    int wanted = 0;
    for (int i = 0; i < c->nregs && !wanted; i++)
        wanted = c->regs[i].gen == c->gen && (c->regs[i].what == id || c->regs[i].what == EVENT_ANY);
    if (!wanted || c->evq_len >= MAX_EVENTS)
        return;
    evitem_t *e = &c->evq[(c->evq_head + c->evq_len) % MAX_EVENTS];
    e->id = id;
    e->ts = ts;
    e->data = data;
    e->gen = c->gen;
    c->evq_len++;
    pthread_cond_broadcast(&c->cv);
}

void account_delivery(camera_t *c, U64 n, double ts)
{
    if (n > c->accounted + 1) { /* frames before it were lost (free running, PxLEmu_DropFrames) */
        U64 lost = n - c->accounted - 1;
        c->frames_skipped += (long long)lost;
        queue_event(c, EVENT_FRAMES_SKIPPED, ts, (U32)lost);
    }
    if (n > c->accounted)
        c->accounted = n;
}

/* a produced frame nobody took: lost (FRAMES_SKIPPED, with the frames lost before it) */
static void skip_frame(camera_t *c, U64 n, double ts)
{
    U64 lost = n > c->accounted ? n - c->accounted : 1;
    c->frames_skipped += (long long)lost;
    queue_event(c, EVENT_FRAMES_SKIPPED, ts, (U32)lost);
    if (n > c->accounted)
        c->accounted = n;
}

void number_frame(camera_t *c, U64 k, frame_info_t *fi, double exp_start, double exp_end)
{
    if (k > c->frame_seq) {
        c->frame_seq = k;
        auto_step(c); /* AUTO / ONEPUSH react to this frame */
    }
    fi->number = k + c->drop_total;
    if (exp_start >= c->last_exp_start) {
        c->last_exp_start = exp_start;
        c->last_exp_end = exp_end;
    }
}

void push_cb_frame(camera_t *c, const frame_info_t *fi)
{
    if (c->ncbframes >= NUM_FRAME_BUFFERS) /* the callback is too slow: this frame is missed (FEATURES.md 16) */
        return;
    c->cbframes[c->ncbframes++] = *fi;
    pthread_cond_broadcast(&c->cv);
}

/* ================================================================ triggers */

void accept_trigger(camera_t *c, double t, int to_grab)
{
    if (c->npend >= MAX_PENDING) { /* cannot happen with the busy rule; refuse rather than overflow */
        c->trig_missed++;
        queue_event(c, EVENT_HW_TRIGGER_MISSED, t - c->t0, 0);
        return;
    }
    geom_t g = geometry(c);
    pending_t *p = &c->pend[c->npend++];
    memset(p, 0, sizeof *p);
    snapshot_frame(c, &g, &p->fi);
    p->ro = readout_time(c, &g);
    p->period = frame_period(c, &g);
    const F32 *tv = c->cur[FEATURE_TRIGGER].v;
    int mode = (int)tv[0];
    U32 n = 1;
    if (mode == 4 || mode == 14) /* N frames per trigger; 0 taken as 1 */
        n = tv[4] >= 1.0f ? (U32)tv[4] : 1u;
    p->count = n;
    p->t0 = t + tv[3]; /* DELAY, seconds */
    p->open = to_grab && mode == 1;
    p->to_grab = to_grab;
    double end = p->t0 + (double)(n - 1) * p->period + p->fi.exposure + p->ro;
    c->busy_until = p->open ? 1e300 : end;
    if (!p->open && end > c->last_due)
        c->last_due = end;
    c->trig_accepted++;
    ensure_cam_thread(c);
    pthread_cond_broadcast(&c->cv);
}

/* mode 1: the trailing edge ends the open exposure (exposure = pulse width) */
static void close_open_exposure(camera_t *c, double t)
{
    for (int i = c->npend - 1; i >= 0; i--) {
        pending_t *p = &c->pend[i];
        if (!p->open)
            continue;
        double e = t - p->t0;
        p->fi.exposure = (double)(F32)(e < 1e-5 ? 1e-5 : e);
        p->open = 0;
        c->busy_until = p->t0 + p->fi.exposure + p->ro;
        if (c->busy_until > c->last_due)
            c->last_due = c->busy_until;
        pthread_cond_broadcast(&c->cv);
        return;
    }
}

int input_edge(camera_t *c, int level, double t)
{
    level = level != 0;
    if (level == c->in_level || !c->plugged)
        return 0;
    c->in_level = level;
    double ts = t - c->t0;
    if (hw_trigger_armed(c)) {
        queue_event(c, level ? EVENT_HW_TRIGGER_RISING_EDGE : EVENT_HW_TRIGGER_FALLING_EDGE, ts, 0);
        /* POLARITY 1 (Positive) triggers on the falling edge, 0 (Negative) on the rising edge (FEATURES.md 11.4) */
        int active = c->cur[FEATURE_TRIGGER].v[2] >= 0.5f ? !level : level;
        if (!active) {
            close_open_exposure(c, t);
            return 0;
        }
        if (c->stream_state != STREAM_START)
            return 0;
        if (t < c->busy_until) { /* still exposing / reading out the previous trigger's frame(s) */
            c->trig_missed++;
            queue_event(c, EVENT_HW_TRIGGER_MISSED, ts, 0);
            return 2;
        }
        accept_trigger(c, t, 1);
        return 1;
    }
    if (c->gpio[0].enabled && c->gpio[0].mode == GPIO_MODE_INPUT)
        queue_event(c, level ? EVENT_GPI_RISING_EDGE : EVENT_GPI_FALLING_EDGE, ts, 0);
    return 0;
}

/* ================================================================ the camera thread */

static int on_cam_thread(const camera_t *c)
{
    return c->thr_alive && c->thr_pid == (int)getpid() && pthread_equal(pthread_self(), c->thr);
}

void wait_callbacks(camera_t *c)
{
    while (c->cb_busy && !on_cam_thread(c))
        pthread_cond_wait(&c->cv, &c->mu);
}

#define ALL_REGS (~0u)
#define ALL_EVENTS (~1u)

void drop_regs(camera_t *c, U32 hid, U32 what)
{
    int j = 0;
    for (int i = 0; i < c->nregs; i++) {
        const cbreg_t *r = &c->regs[i];
        int drop = r->hid == hid && (what == ALL_REGS || r->what == what || (what == ALL_EVENTS && r->what != REG_FRAME));
        if (!drop)
            c->regs[j++] = *r;
    }
    c->nregs = j;
    wait_callbacks(c);
}

/* 0, or -1 if the table is full */
static int set_reg(camera_t *c, U32 hid, unsigned gen, U32 what, void *fn, void *ctx)
{
    cbreg_t *r = NULL;
    for (int i = 0; i < c->nregs && !r; i++)
        if (c->regs[i].hid == hid && c->regs[i].what == what)
            r = &c->regs[i];
    if (!r) {
        if (c->nregs >= MAX_REGS)
            return -1;
        r = &c->regs[c->nregs++];
    }
    r->hid = hid;
    r->gen = gen;
    r->what = what;
    r->fn = fn;
    r->ctx = ctx;
    return 0;
}

static int reg_still_there(const camera_t *c, const cbreg_t *want)
{
    for (int i = 0; i < c->nregs; i++) {
        const cbreg_t *r = &c->regs[i];
        if (r->hid == want->hid && r->what == want->what && r->fn == want->fn && r->ctx == want->ctx &&
            r->gen == want->gen)
            return 1;
    }
    return 0;
}

static int has_reg(const camera_t *c, U32 hid, U32 what)
{
    for (int i = 0; i < c->nregs; i++)
        if (c->regs[i].hid == hid && c->regs[i].what == what)
            return 1;
    return 0;
}

/* one event to every handle that registered for it (its own id wins over ANY); mu released during calls */
static void deliver_event(camera_t *c)
{
    evitem_t ev = c->evq[c->evq_head];
    c->evq_head = (c->evq_head + 1) % MAX_EVENTS;
    c->evq_len--;
    cbreg_t calls[MAX_REGS];
    int n = 0;
    for (int i = 0; i < c->nregs; i++) {
        const cbreg_t *r = &c->regs[i];
        if (r->gen != ev.gen || r->what == REG_FRAME)
            continue;
        if (r->what == ev.id || (r->what == EVENT_ANY && !has_reg(c, r->hid, ev.id)))
            calls[n++] = *r;
    }
    for (int i = 0; i < n; i++) {
        if (c->retired || g_shutdown || !reg_still_there(c, &calls[i]))
            continue;
        U32 data = ev.data;
        int with_data = ev.id == EVENT_FRAMES_SKIPPED;
        c->cb_busy = 1;
        pthread_mutex_unlock(&c->mu);
        ((event_fn_t)calls[i].fn)(calls[i].hid, ev.id, ev.ts, with_data ? 4u : 0u, with_data ? (U8 *)&data : NULL,
                                  calls[i].ctx);
        pthread_mutex_lock(&c->mu);
        c->cb_busy = 0;
        pthread_cond_broadcast(&c->cv);
    }
}

/* the oldest frame for FRAME callbacks: rendered without the lock, then handed to each FRAME callback */
static void deliver_frame(camera_t *c)
{
    frame_info_t fi = c->cbframes[0];
    memmove(&c->cbframes[0], &c->cbframes[1], (size_t)(c->ncbframes - 1) * sizeof c->cbframes[0]);
    c->ncbframes--;
    unsigned epoch = c->epoch;
    pthread_mutex_unlock(&c->mu);
    U8 *buf = malloc(fi.g.bytes ? fi.g.bytes : 1);
    FRAME_DESC d;
    int ok = buf && render_frame(buf, &fi) == 0;
    if (ok)
        fill_desc(&d, (U32)sizeof d, &fi);
    pthread_mutex_lock(&c->mu);
    cbreg_t calls[MAX_REGS];
    int n = 0;
    for (int i = 0; ok && i < c->nregs; i++)
        if (c->regs[i].what == REG_FRAME && c->regs[i].gen == c->gen)
            calls[n++] = c->regs[i];
    for (int i = 0; i < n; i++) {
        /* never after a stream stop / removal / uninitialize (SDK-ABI.md 3.12) */
        if (c->retired || g_shutdown || c->epoch != epoch || !reg_still_there(c, &calls[i]))
            continue;
        c->cb_busy = 1;
        pthread_mutex_unlock(&c->mu);
        ((frame_fn_t)calls[i].fn)(calls[i].hid, buf, fi.desc_pf, &d, calls[i].ctx);
        pthread_mutex_lock(&c->mu);
        c->cb_busy = 0;
        pthread_cond_broadcast(&c->cv);
    }
    free(buf);
}

/* triggered frames whose readout has ended: to a waiting grab (hardware trigger), to FRAME callbacks, or lost */
static void complete_pending(camera_t *c, double now, double *next)
{
    while (c->npend > 0) {
        pending_t *p = &c->pend[0];
        if (p->open) /* mode 1: waits for the trailing edge */
            return;
        double exp_start = p->t0 + (double)p->next * p->period;
        double exp_end = exp_start + p->fi.exposure;
        double done = exp_end + p->ro;
        if (done > now) {
            if (done < *next)
                *next = done;
            return;
        }
        frame_info_t fi = p->fi;
        fi.trigger_number = p->next;
        fi.frame_time = exp_end - c->t0; /* latched at the end of the exposure (FEATURES.md 17) */
        int to_grab = p->to_grab;
        if (++p->next >= p->count) {
            memmove(&c->pend[0], &c->pend[1], (size_t)(c->npend - 1) * sizeof c->pend[0]);
            c->npend--;
        }
        number_frame(c, c->frame_seq + 1, &fi, exp_start, exp_end);
        double ts = done - c->t0;
        int taken = 0;
        if (to_grab && c->hw_waiters > c->nready && c->nready < NUM_FRAME_BUFFERS) {
            c->ready[c->nready++] = fi;
            taken = 1;
            pthread_cond_broadcast(&c->cv);
        }
        if (has_frame_cb(c)) {
            push_cb_frame(c, &fi);
            taken = 1;
        }
        if (taken)
            account_delivery(c, fi.number, ts);
        else
            skip_frame(c, fi.number, ts);
    }
}

/* free running with a FRAME callback: the sensor produces a frame every period, each goes to the callback */
static void freerun_frames(camera_t *c, double now, double *next)
{
    if (c->stream_state != STREAM_START || !c->plugged || trigger_kind(c) != 0 || !has_frame_cb(c))
        return;
    geom_t g = geometry(c);
    if (g.bytes == 0)
        return;
    double period = frame_period(c, &g), ro = readout_time(c, &g);
    if (c->fr_period != period) { /* the same timeline as free-run grabs (pxlemu_stream.c frame_due) */
        c->fr_anchor_t = c->last_due >= 0 ? c->last_due : now;
        c->fr_anchor_k = c->frame_seq;
        c->fr_period = period;
    }
    if (c->cb_next_k <= c->fr_anchor_k)
        c->cb_next_k = c->fr_anchor_k + 1;
    double due = c->fr_anchor_t + (double)(c->cb_next_k - c->fr_anchor_k) * period;
    if (due <= now) {
        U64 k = c->fr_anchor_k + (U64)flr((now - c->fr_anchor_t) / period); /* the newest finished frame */
        if (k < c->cb_next_k)
            k = c->cb_next_k;
        due = c->fr_anchor_t + (double)(k - c->fr_anchor_k) * period;
        frame_info_t fi;
        snapshot_frame(c, &g, &fi);
        fi.frame_time = due - ro - c->t0;
        number_frame(c, k, &fi, due - ro - fi.exposure, due - ro);
        account_delivery(c, fi.number, fi.frame_time);
        if (fi.number > c->last_frame_number)
            c->last_frame_number = fi.number;
        push_cb_frame(c, &fi);
        c->cb_next_k = k + 1;
        if (due > c->last_due)
            c->last_due = due;
        due = c->fr_anchor_t + (double)(c->cb_next_k - c->fr_anchor_k) * period;
    }
    if (due < *next)
        *next = due;
}

/* PxLEmu_TriggerBurst: high pulses on the input at their scheduled times (edges carry those times) */
static void run_burst(camera_t *c, double now, double *next)
{
    while (c->burst.remaining > 0 && c->burst.next_t <= now) {
        if (c->burst.phase == 0) {
            input_edge(c, 1, c->burst.next_t);
            c->burst.phase = 1;
            c->burst.next_t += c->burst.width;
        } else {
            input_edge(c, 0, c->burst.next_t);
            c->burst.phase = 0;
            c->burst.remaining--;
            c->burst.next_t += c->burst.period - c->burst.width;
        }
    }
    if (c->burst.remaining > 0 && c->burst.next_t < *next)
        *next = c->burst.next_t;
}

static void *cam_main(void *arg)
{
    camera_t *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->retired && !g_shutdown) {
        double now = mono_now(), next = now + 0.5;
        run_burst(c, now, &next);
        complete_pending(c, now, &next);
        freerun_frames(c, now, &next);
        if (c->evq_len > 0) {
            deliver_event(c);
            continue;
        }
        if (c->ncbframes > 0) {
            deliver_frame(c);
            continue;
        }
        struct timespec ts = abs_time(next);
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    c->thr_alive = 0;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

void ensure_cam_thread(camera_t *c)
{
    if (c->retired || g_shutdown || (c->thr_alive && c->thr_pid == (int)getpid()))
        return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits a full mask: no signals */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&c->thr, &a, cam_main, c) == 0) {
        c->thr_alive = 1;
        c->thr_pid = (int)getpid();
    }
    pthread_attr_destroy(&a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ================================================================ PxLSetCallback, PxLSetEventCallback */

PXL_RETURN_CODE impl_SetCallback(HANDLE h, U32 type, void *ctx, frame_fn_t fn)
{
    unsigned gen;
    CAM_ENTER("PxLSetCallback", ACCESS_ANY, &gen, NULL);
    U32 hid = (U32)(uintptr_t)h;
    if (!fn) { /* removing: also one that was never installed */
        if (type == CALLBACK_FRAME)
            drop_regs(c, hid, REG_FRAME);
        goto out;
    }
    if (type != CALLBACK_FRAME)
        FAIL(ApiNotSupportedError, "callback type %u is not emulated (only 8 FRAME)", type);
    if (set_reg(c, hid, gen, REG_FRAME, (void *)fn, ctx) != 0)
        FAIL(ApiOutOfMemoryError, "too many callbacks on this camera");
    ensure_cam_thread(c);
    pthread_cond_broadcast(&c->cv);
out:
    return cam_leave(c, rc);
}

static int event_supported(U32 id)
{
    return id <= EVENT_HW_TRIGGER_MISSED || id == EVENT_FRAMES_SKIPPED;
}

PXL_RETURN_CODE impl_SetEventCallback(HANDLE h, U32 eventId, void *ctx, event_fn_t fn)
{
    unsigned gen;
    CAM_ENTER("PxLSetEventCallback", ACCESS_ANY, &gen, NULL);
    U32 hid = (U32)(uintptr_t)h;
    if (eventId > EVENT_LAST)
        FAIL(ApiInvalidParameterError, "unknown event id %u (0..%d)", eventId, EVENT_LAST);
    if (!event_supported(eventId))
        FAIL(ApiThisEventNotSupported, "event %u (PTP synchronisation) is not supported by this camera", eventId);
    if (!fn) { /* cancel: one id, or every event with ANY */
        drop_regs(c, hid, eventId == EVENT_ANY ? ALL_EVENTS : eventId);
        goto out;
    }
    if (set_reg(c, hid, gen, eventId, (void *)fn, ctx) != 0)
        FAIL(ApiOutOfMemoryError, "too many callbacks on this camera");
    ensure_cam_thread(c);
out:
    return cam_leave(c, rc);
}

/* ================================================================ GPIO (FEATURES.md 12) */

static const char GPIO_SET_FN[] = "PxLSetFeature";

void gpio_desc(const camera_t *c, F32 out[5][GPIO_LINES])
{
    memset(out, 0, sizeof(F32) * 5 * GPIO_LINES);
    for (int i = 0; i < GPIO_LINES; i++) {
        const gpio_line_t *l = &c->gpio[i];
        if (i == 0 && hw_trigger_armed(c)) {
            out[0][i] = GPIO_MODE_HARDWARE_TRIGGER;
            continue;
        }
        if (!l->enabled)
            continue;
        out[0][i] = (F32)l->mode;
        out[1][i] = l->pol;
        for (int k = 0; k < 3; k++)
            out[2 + k][i] = l->p[k];
    }
}

/* 1-based index from params[0]: the line (0-based), or a refusal */
static PXL_RETURN_CODE gpio_index(camera_t *c, const char *fn, F32 v, int *line)
{
    if (!is_finite(v) || v != (F32)(int)v) {
        set_err(c, fn, ApiInvalidParameterError, "GPIO index %g: params[0] must be the line number 1..%d",
                (double)v, GPIO_LINES);
        return ApiInvalidParameterError;
    }
    int i = (int)v;
    if (i < 1 || i > GPIO_LINES) {
        PXL_RETURN_CODE rc = i == 0 ? ApiInvalidParameterError : ApiOutOfRangeError;
        set_err(c, fn, rc, "GPIO index %d: this camera has lines 1..%d (params[0] = 0 is no line)", i, GPIO_LINES);
        return rc;
    }
    *line = i - 1;
    return ApiSuccess;
}

PXL_RETURN_CODE gpio_get(camera_t *c, const char *fn, U32 *pFlags, U32 *pN, F32 *pParams)
{
    const U32 n = 6;
    if (!pParams) {
        int any = hw_trigger_armed(c);
        for (int i = 0; i < GPIO_LINES; i++)
            any |= c->gpio[i].enabled;
        *pFlags = F_PRES | (any ? F_MAN : F_OFF);
        *pN = n;
        return ApiSuccess;
    }
    if (*pN < n) {
        U32 given = *pN;
        *pN = n;
        set_err(c, fn, ApiBufferTooSmall, "GPIO has %u parameters, room for %u given", n, given);
        return ApiBufferTooSmall;
    }
    int line;
    PXL_RETURN_CODE rc = gpio_index(c, fn, pParams[0], &line);
    if (rc)
        return rc;
    const gpio_line_t *l = &c->gpio[line];
    F32 out[6] = {(F32)(line + 1), (F32)l->mode, l->pol, l->p[0], l->p[1], l->p[2]};
    U32 mode = l->enabled ? F_MAN : F_OFF;
    if (line == 0 && hw_trigger_armed(c)) { /* the trigger input reads HARDWARE_TRIGGER (FEATURES.md 11.4) */
        out[1] = GPIO_MODE_HARDWARE_TRIGGER;
        mode = F_MAN;
    } else if (l->mode == GPIO_MODE_INPUT) {
        out[3] = (F32)c->in_level; /* STATUS */
    }
    memcpy(pParams, out, sizeof out);
    *pFlags = F_PRES | mode;
    *pN = n;
    return ApiSuccess;
}

PXL_RETURN_CODE gpio_set(camera_t *c, const char *fn, U32 mode, U32 n, const F32 *p)
{
    (void)fn;
    if (n < 1 || !p) {
        set_err(c, GPIO_SET_FN, ApiInvalidParameterError, "GPIO needs the line number in params[0]");
        return ApiInvalidParameterError;
    }
    int line;
    PXL_RETURN_CODE rc = gpio_index(c, GPIO_SET_FN, p[0], &line);
    if (rc)
        return rc;
    if (line == 0 && hw_trigger_armed(c)) {
        set_err(c, GPIO_SET_FN, ApiGpiHardwareTriggerConflict,
                "GPIO 1 is the hardware trigger input while TRIGGER is on with type HARDWARE");
        return ApiGpiHardwareTriggerConflict;
    }
    gpio_line_t *l = &c->gpio[line];
    if (mode == F_OFF) {
        l->enabled = 0;
        return ApiSuccess;
    }
    FEATURE_PARAM lim[MAXP];
    live_limits(c, FEATURE_GPIO, lim);
    F32 v[6] = {(F32)(line + 1), (F32)l->mode, l->pol, l->p[0], l->p[1], l->p[2]};
    static const char *const names[6] = {"INDEX", "MODE", "POLARITY", "PARAM_1", "PARAM_2", "PARAM_3"};
    for (U32 i = 1; i < n && i < 6; i++) {
        if (!is_finite(p[i])) {
            set_err(c, GPIO_SET_FN, ApiInvalidParameterError, "GPIO %s is not a finite number", names[i]);
            return ApiInvalidParameterError;
        }
        if (p[i] < lim[i].fMinValue || p[i] > lim[i].fMaxValue) {
            set_err(c, GPIO_SET_FN, ApiOutOfRangeError, "GPIO %s = %g is out of range [%g, %g]", names[i],
                    (double)p[i], (double)lim[i].fMinValue, (double)lim[i].fMaxValue);
            return ApiOutOfRangeError;
        }
        v[i] = p[i];
    }
    int changed = 0;
    for (int i = 1; i <= 2; i++) { /* MODE and POLARITY are integers */
        F32 r = (F32)rnd(v[i]);
        changed |= r != v[i] && (U32)i < n;
        v[i] = r;
    }
    int m = (int)v[1];
    if (m == GPIO_MODE_INPUT && line != 0) {
        set_err(c, GPIO_SET_FN, ApiGpoOnlyError, "GPIO %d is an output; only GPIO 1 can be an input", line + 1);
        return ApiGpoOnlyError;
    }
    if (m == GPIO_MODE_PULSE) { /* NUMBER of pulses (integer >= 1), DURATION > 0, INTERVAL >= DURATION */
        F32 num = (F32)rnd(v[3]);
        changed |= num != v[3] && n > 3;
        v[3] = num;
        if (num < 1 || !(v[4] > 0) || (num > 1 && v[5] < v[4])) {
            set_err(c, GPIO_SET_FN, ApiGpioConfigurationError,
                    "GPIO PULSE needs NUMBER >= 1, DURATION > 0 and INTERVAL >= DURATION (got %g, %g, %g)",
                    (double)v[3], (double)v[4], (double)v[5]);
            return ApiGpioConfigurationError;
        }
    }
    if (m == GPIO_MODE_STROBE && !(v[4] > 0)) {
        set_err(c, GPIO_SET_FN, ApiGpioConfigurationError, "GPIO STROBE needs a DURATION (PARAM_2) > 0 s");
        return ApiGpioConfigurationError;
    }
    l->enabled = 1;
    l->mode = (U32)m;
    l->pol = v[2];
    memcpy(l->p, &v[3], sizeof l->p);
    l->t_set = mono_now();
    l->seq_at_set = c->frame_seq;
    return changed ? ApiSuccessParametersChanged : ApiSuccess;
}

int gpio_level(const camera_t *c, int line, double now, long long *count)
{
    const gpio_line_t *l = &c->gpio[line];
    *count = 0;
    if (line == 0 && hw_trigger_armed(c))
        return c->in_level;
    if (!l->enabled)
        return 0;
    int active = 0, high = l->pol >= 0.5f; /* POLARITY 1: active high */
    long long frames = (long long)(c->frame_seq - l->seq_at_set);
    int exposed = frames > 0 && c->last_exp_start >= l->t_set;
    switch (l->mode) {
    case GPIO_MODE_NORMAL:
        return high; /* the level is the polarity (FEATURES.md 12.2) */
    case GPIO_MODE_INPUT:
        return c->in_level;
    case GPIO_MODE_STROBE: /* a pulse of DURATION, DELAY after each exposure starts */
        *count = frames;
        active = exposed && now >= c->last_exp_start + l->p[0] && now < c->last_exp_start + l->p[0] + l->p[1];
        break;
    case GPIO_MODE_FLASH: /* during each exposure */
        *count = frames;
        active = exposed && now >= c->last_exp_start && now < c->last_exp_end;
        break;
    case GPIO_MODE_BUSY: /* while the camera cannot take a trigger */
        *count = frames;
        active = now < c->busy_until || (c->stream_state == STREAM_START && trigger_kind(c) == 0);
        break;
    case GPIO_MODE_PULSE: { /* NUMBER pulses of DURATION every INTERVAL from the set */
        double el = now - l->t_set, num = l->p[0], dur = l->p[1], iv = l->p[2];
        double i = iv > 0 ? flr(el / iv) : 0.0;
        *count = (long long)(i + 1 < num ? i + 1 : num);
        active = i < num && el - i * iv < dur;
        break;
    }
    default:
        break;
    }
    return active ? high : !high;
}

/* ================================================================ control API */

static double clamp_time(double t) { return t < 0 ? 0 : t; }

PXLAPI int PxLEmu_SetInput(U32 serial, int level)
{
    if (level != 0 && level != 1)
        return -2;
    camera_t *c = lock_cam(serial);
    int r = c ? input_edge(c, level, mono_now()) : -1;
    unlock_cam(c);
    return r;
}

PXLAPI int PxLEmu_TriggerPulse(U32 serial, float width_s)
{
    if (!(width_s >= 0.0f && width_s <= 1.0f))
        return -2;
    camera_t *c = lock_cam(serial);
    if (!c) {
        unlock_cam(c);
        return -1;
    }
    double t = mono_now();
    int r1 = input_edge(c, 1, t), r2 = 0;
    if (width_s == 0.0f)
        r2 = input_edge(c, 0, t);
    unlock_cam(c);
    if (width_s > 0.0f) {
        struct timespec ts = abs_time(clamp_time(t + width_s)), rem;
        (void)rem;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        c = lock_cam(serial);
        if (c)
            r2 = input_edge(c, 0, mono_now());
        unlock_cam(c);
    }
    return r1 ? r1 : r2;
}

PXLAPI int PxLEmu_HardwareTrigger(U32 serial) { return PxLEmu_TriggerPulse(serial, 0.0f); }

PXLAPI int PxLEmu_TriggerBurst(U32 serial, int count, float period_s, float width_s)
{
    if (count < 0 || count > 10000000 || !(period_s > 0.0f && period_s <= 3600.0f) || !is_finite(width_s))
        return -2;
    double width = width_s < 0 ? (period_s / 2 < 1e-3 ? period_s / 2.0 : 1e-3) : width_s;
    if (width >= period_s)
        return -2;
    camera_t *c = lock_cam(serial);
    if (c) {
        c->burst.remaining = count;
        c->burst.phase = 0;
        c->burst.next_t = mono_now();
        c->burst.period = period_s;
        c->burst.width = width;
        ensure_cam_thread(c);
        pthread_cond_broadcast(&c->cv);
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_TriggerCounts(U32 serial, long long *accepted, long long *missed, long long *skipped)
{
    camera_t *c = lock_cam(serial);
    if (c) {
        if (accepted)
            *accepted = c->trig_accepted;
        if (missed)
            *missed = c->trig_missed;
        if (skipped)
            *skipped = c->frames_skipped;
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_GetOutput(U32 serial, U32 index, long long *count)
{
    if (index < 1 || index > GPIO_LINES)
        return -2;
    long long n = 0;
    camera_t *c = lock_cam(serial);
    int level = c ? gpio_level(c, (int)index - 1, mono_now(), &n) : -1;
    unlock_cam(c);
    if (count)
        *count = n;
    return level;
}

static F32 half_degrees(float v) { return (F32)(rnd((double)v * 2.0) / 2.0); }

PXLAPI int PxLEmu_SetTemperature(U32 serial, float sensor, float body)
{
    int keep_s = sensor != sensor, keep_b = body != body;
    if ((!keep_s && !(sensor >= -100.0f && sensor <= 200.0f)) || (!keep_b && !(body >= -100.0f && body <= 200.0f)))
        return -2;
    camera_t *c = lock_cam(serial);
    if (c) {
        if (!keep_s)
            c->cur[FEATURE_SENSOR_TEMPERATURE].v[0] = half_degrees(sensor);
        if (!keep_b)
            c->cur[FEATURE_BODY_TEMPERATURE].v[0] = half_degrees(body);
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_SetTriggerTimeout(U32 serial, float seconds)
{
    if (!(seconds >= 0.0f && seconds <= 3600.0f))
        return -2;
    camera_t *c = lock_cam(serial);
    if (c) {
        c->trig_timeout = seconds;
        pthread_cond_broadcast(&c->cv);
    }
    unlock_cam(c);
    return c ? 0 : -1;
}

PXLAPI int PxLEmu_GrabWaiters(U32 serial)
{
    camera_t *c = lock_cam(serial);
    int n = c ? c->grabs_waiting : -1;
    unlock_cam(c);
    return n;
}
