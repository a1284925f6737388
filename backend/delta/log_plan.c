/* Deciding which files rebuild a version, and naming precisely why none do.
 * The rule is "never a wrong answer": the state at a version is exactly a
 * checkpoint at or below it plus every JSON commit after it, or every JSON
 * commit from 0. Anything else is a gap or a version that was cleaned up. */

#include <stdlib.h>

#include "backend/delta/delta_internal.h"

/* 1 when every commit in [from, to] has its JSON file. Commits are sorted
 * and unique, so counting the ones in range is enough. */
static int commits_cover(const delta_log_listing *l, int64_t from, int64_t to)
{
    if (from > to)
        return 1;
    size_t n = 0;
    for (size_t i = 0; i < l->ncommits; i++)
        if (l->commits[i].version >= from && l->commits[i].version <= to)
            n++;
    return (int64_t)n == to - from + 1;
}

/* Smallest version in [from, to] without a JSON commit; -1 when none. */
static int64_t first_missing(const delta_log_listing *l, int64_t from, int64_t to)
{
    for (int64_t v = from; v <= to; v++)
        if (!delta_log_commit_find(l, v))
            return v;
    return -1;
}

void delta_plan_free(delta_plan *p)
{
    if (!p)
        return;
    free(p->cps);
    p->cps = NULL;
    p->ncps = 0;
    p->json_only = 0;
}

sl_code delta_log_plan(const delta_log_listing *l, int64_t version, int use_checkpoints,
                       delta_plan *out, sl_err *err)
{
    out->cps = NULL;
    out->ncps = 0;
    out->json_only = 0;
    if (version < 0 || version > l->latest)
        return err_set(err, SL_DELTA_VERSION_NOT_FOUND,
                       "version %lld does not exist in %s (latest is %lld)",
                       (long long)version, l->where, (long long)l->latest);

    /* Newest first; a checkpoint counts only with every later commit up to
     * the version present. Its own commit may be gone. */
    int64_t newest_cp = -1;
    if (use_checkpoints) {
        for (size_t i = l->ncprefs; i-- > 0;) {
            const delta_checkpoint_ref *cp = &l->cprefs[i];
            if (cp->version > version)
                continue;
            if (newest_cp < 0)
                newest_cp = cp->version;
            if (!commits_cover(l, cp->version + 1, version))
                continue;
            if (!out->cps)
                out->cps = sl_calloc(l->ncprefs, sizeof *out->cps);
            out->cps[out->ncps++] = cp;
        }
    }
    out->json_only = commits_cover(l, 0, version);
    if (out->ncps || out->json_only) {
        /* Within one version cprefs run preferred-first; walking backwards
         * reversed them, so restore that order inside each version. */
        for (size_t a = 0; a < out->ncps;) {
            size_t b = a;
            while (b + 1 < out->ncps && out->cps[b + 1]->version == out->cps[a]->version)
                b++;
            for (size_t i = a, j = b; i < j; i++, j--) {
                const delta_checkpoint_ref *t = out->cps[i];
                out->cps[i] = out->cps[j];
                out->cps[j] = t;
            }
            a = b + 1;
        }
        return SL_OK;
    }

    int64_t oldest = l->ncommits ? l->commits[0].version : l->latest;
    if (use_checkpoints && l->ncheckpoints && l->checkpoints[0] < oldest)
        oldest = l->checkpoints[0];
    if (version < oldest)
        return err_set(err, SL_DELTA_VERSION_NOT_FOUND,
                       "version %lld of %s is older than the oldest version that can be "
                       "rebuilt (%lld); the log before it was cleaned up",
                       (long long)version, l->where, (long long)oldest);

    int64_t missing = first_missing(l, newest_cp + 1, version);
    if (missing < 0) /* only the checkpoint's own commit is absent */
        missing = first_missing(l, 0, version);
    return err_set(err, SL_DELTA_GAP,
                   "commit %020lld.json (version %lld) is missing from %s: versions must "
                   "be contiguous to read version %lld",
                   (long long)missing, (long long)missing, l->where, (long long)version);
}
