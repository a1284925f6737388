/* Deciding whether a version can be rebuilt from JSON commits alone, and
 * naming precisely why not. The rule is "never a wrong answer": a missing
 * commit is either covered by a checkpoint (which the Parquet checkpoint
 * reader will serve) or it is a gap. */

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

sl_code delta_log_plan(const delta_log_listing *l, int64_t version, sl_err *err)
{
    if (version < 0 || version > l->latest)
        return err_set(err, SL_DELTA_VERSION_NOT_FOUND,
                       "version %lld does not exist in %s (latest is %lld)",
                       (long long)version, l->where, (long long)l->latest);
    if (commits_cover(l, 0, version))
        return SL_OK;

    /* The newest checkpoint at or below the version with every later commit
     * present: the state is exactly checkpoint + those commits. */
    int64_t newest_cp = -1;
    for (size_t i = l->ncheckpoints; i-- > 0;) {
        int64_t cp = l->checkpoints[i];
        if (cp > version)
            continue;
        if (newest_cp < 0)
            newest_cp = cp;
        if (commits_cover(l, cp + 1, version))
            return err_set(
                err, SL_DELTA_NEEDS_CHECKPOINT,
                "version %lld of %s needs checkpoint %lld: earlier JSON commits "
                "were cleaned up and the Parquet checkpoint reader is not in "
                "this build",
                (long long)version, l->where, (long long)cp);
    }

    int64_t oldest = l->ncommits ? l->commits[0].version : l->latest;
    if (l->ncheckpoints && l->checkpoints[0] < oldest)
        oldest = l->checkpoints[0];
    if (version < oldest)
        return err_set(err, SL_DELTA_VERSION_NOT_FOUND,
                       "version %lld of %s is older than the oldest version kept (%lld); "
                       "the log before it was cleaned up",
                       (long long)version, l->where, (long long)oldest);

    int64_t missing = first_missing(l, newest_cp + 1, version);
    if (missing < 0) /* only the checkpoint's own commit is absent */
        missing = first_missing(l, 0, version);
    return err_set(err, SL_DELTA_GAP,
                   "commit %020lld.json (version %lld) is missing from %s: versions must "
                   "be contiguous to read version %lld",
                   (long long)missing, (long long)missing, l->where, (long long)version);
}
