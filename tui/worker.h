#ifndef SLUICE_TUI_WORKER_H
#define SLUICE_TUI_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "backend/ops/session.h"
#include "backend/util/err.h"

/* The background worker: one pthread that runs backend calls so the UI
 * thread only draws and reads keys. A job is posted by a view (or the app),
 * runs on the worker, and comes back through worker_take_done; whoever takes
 * a finished job owns it and frees it with job->free. The worker never
 * touches curses. */
typedef struct tui_job tui_job;
struct app;
struct tui_job {
    uint64_t owner;  /* id of the view that posted it; 0: the app */
    int kind;        /* owner-defined */
    /* Runs on the worker; fills the job's own result fields, code and err. */
    void (*run)(tui_job *job, session *sess);
    /* Frees the job and everything it still owns. */
    void (*free)(tui_job *job);
    /* Jobs the app posts for itself (owner 0): called on the UI thread when
     * the job is delivered; it owns the job from then on and frees it. */
    void (*deliver)(tui_job *job, struct app *a);
    sl_code code;
    sl_err err;
    tui_job *next;   /* queue link (worker-owned while queued) */
};

typedef struct tui_worker tui_worker;

sl_code worker_start(session *sess, tui_worker **out, sl_err *err);
/* Queues a job (ownership passes to the worker until it is taken back). */
void worker_post(tui_worker *w, tui_job *job);
/* Finished jobs in completion order as a list linked by ->next; NULL when none. */
tui_job *worker_take_done(tui_worker *w);
/* Jobs queued or running (finished ones waiting to be taken not counted). */
size_t worker_busy(tui_worker *w);
/* Readable whenever a finished job waits to be taken (for the UI's key wait). */
int worker_wake_fd(const tui_worker *w);
/* Blocks until nothing is queued or running. */
void worker_wait_idle(tui_worker *w);
/* Drops queued jobs, waits for the running one, frees every result not
 * taken, joins the thread and frees the worker. */
void worker_stop(tui_worker *w);

#endif
