#include "backend/util/log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/util/buf.h"
#include "backend/util/paths.h"
#include "backend/util/timeutil.h"

struct sl_log {
    FILE *fp;
    char *path;
    pthread_mutex_t mu;
};

sl_code log_open_file(const char *path, sl_log **out, sl_err *err)
{
    FILE *fp = fopen(path, "a");
    if (!fp)
        return err_set(err, SL_STATE_DIR, "cannot open log %s: %s", path,
                       strerror(errno));
    sl_log *log = sl_calloc(1, sizeof *log);
    log->fp = fp;
    log->path = sl_strdup(path);
    pthread_mutex_init(&log->mu, NULL);
    *out = log;
    return SL_OK;
}

sl_code log_open(const char *state_dir, sl_log **out, sl_err *err)
{
    char *path = paths_join(state_dir, "sluice.log");
    sl_code c = log_open_file(path, out, err);
    free(path);
    return c;
}

void log_close(sl_log *log)
{
    if (!log)
        return;
    fclose(log->fp);
    pthread_mutex_destroy(&log->mu);
    free(log->path);
    free(log);
}

const char *log_path(const sl_log *log)
{
    return log ? log->path : NULL;
}

void log_op(sl_log *log, const char *op, const char *target, sl_code code,
            double duration_ms, const char *msg)
{
    if (!log)
        return;
    char ts[40];
    time_format_iso(time_now_ms(), ts, sizeof ts);
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "op", json_string(op ? op : ""));
    json_object_set_new(o, "target", json_string(target ? target : ""));
    json_object_set_new(o, "code", json_string(err_code_name(code)));
    json_object_set_new(o, "ms", json_real(duration_ms));
    if (msg && *msg)
        json_object_set_new(o, "msg", json_string(msg));
    char *line =
        json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!line)
        return;
    pthread_mutex_lock(&log->mu);
    fprintf(log->fp, "%s\n", line);
    fflush(log->fp);
    pthread_mutex_unlock(&log->mu);
    free(line);
}
