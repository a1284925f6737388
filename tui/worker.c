#include "tui/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util/buf.h"

struct tui_worker {
    session *sess;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a job was queued, or stop */
    pthread_cond_t idle; /* a job finished */
    tui_job *queue_head, *queue_tail;
    tui_job *done_head, *done_tail;
    size_t running;
    int stopping;
    int wake_pipe[2]; /* a byte per finished job wakes the UI's key wait */
};

static void append(tui_job **head, tui_job **tail, tui_job *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

static void *worker_main(void *arg)
{
    tui_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->queue_head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mu);
        if (w->stopping)
            break;
        tui_job *job = w->queue_head;
        w->queue_head = job->next;
        if (!w->queue_head)
            w->queue_tail = NULL;
        w->running = 1;
        pthread_mutex_unlock(&w->mu);

        err_clear(&job->err);
        job->code = SL_OK;
        job->run(job, w->sess);

        pthread_mutex_lock(&w->mu);
        w->running = 0;
        append(&w->done_head, &w->done_tail, job);
        pthread_cond_broadcast(&w->idle);
        /* Non-blocking: a full pipe (EAGAIN) already means "wake up". */
        ssize_t wr = write(w->wake_pipe[1], "x", 1);
        (void)wr;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

sl_code worker_start(session *sess, tui_worker **out, sl_err *err)
{
    tui_worker *w = sl_calloc(1, sizeof *w);
    w->sess = sess;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->idle, NULL);
    if (pipe2(w->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        int e = errno;
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->idle);
        free(w);
        return err_set(err, SL_INTERNAL, "cannot create the console's wake pipe: %s",
                       strerror(e));
    }
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        close(w->wake_pipe[0]);
        close(w->wake_pipe[1]);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->idle);
        free(w);
        return err_set(err, SL_INTERNAL, "cannot start the console's worker thread: %s",
                       strerror(rc));
    }
    *out = w;
    return SL_OK;
}

void worker_post(tui_worker *w, tui_job *job)
{
    pthread_mutex_lock(&w->mu);
    append(&w->queue_head, &w->queue_tail, job);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

tui_job *worker_take_done(tui_worker *w)
{
    pthread_mutex_lock(&w->mu);
    tui_job *list = w->done_head;
    w->done_head = w->done_tail = NULL;
    char drain[64];
    while (read(w->wake_pipe[0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_unlock(&w->mu);
    return list;
}

size_t worker_busy(tui_worker *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->running;
    for (tui_job *j = w->queue_head; j; j = j->next)
        n++;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void worker_wait_idle(tui_worker *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->queue_head || w->running)
        pthread_cond_wait(&w->idle, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void free_list(tui_job *j)
{
    while (j) {
        tui_job *next = j->next;
        j->free(j);
        j = next;
    }
}

void worker_stop(tui_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    tui_job *queued = w->queue_head;
    w->queue_head = w->queue_tail = NULL;
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    free_list(queued);
    free_list(w->done_head);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    close(w->wake_pipe[0]);
    close(w->wake_pipe[1]);
    free(w);
}

int worker_wake_fd(const tui_worker *w)
{
    return w->wake_pipe[0];
}
