/* When a writer that holds the table's snapshot writes a checkpoint.
 *
 * Delta's rule is every delta.checkpointInterval commits (10 by default).
 * A checkpoint costs the whole table (every live file is written), so on a
 * large table changed a file or two per commit (the files layout: one
 * customer's file replaced) that rule makes each commit pay about a tenth
 * of the table. Readers are as correct with a longer tail of JSON commits,
 * so sluice's writers also wait until the commits since the last
 * checkpoint number at least a 32nd of the live files (at most 1,000, the
 * tail a warm snapshot keeps): the checkpoint then costs each commit a
 * constant share, and a reader's tail stays a small fraction of the table.
 * Tables under 320 files, and tables that set delta.checkpointInterval
 * themselves, keep Delta's cadence exactly. */
#include "backend/delta/checkpoint_write.h"
#include "backend/delta/delta_write.h"

#define FILES_PER_TAIL_COMMIT 32
#define MAX_TAIL_COMMITS 1000

bool delta_checkpoint_due_sized(const json_t *metadata, int64_t version,
                                int64_t last_checkpoint, size_t nfiles)
{
    if (!delta_checkpoint_due(metadata, version))
        return false;
    const json_t *conf = json_object_get(metadata, "configuration");
    if (json_object_get(conf, "delta.checkpointInterval"))
        return true; /* the table's owner chose the cadence */
    int64_t tail = version - (last_checkpoint < 0 ? 0 : last_checkpoint);
    int64_t want = (int64_t)(nfiles / FILES_PER_TAIL_COMMIT);
    if (want > MAX_TAIL_COMMITS)
        want = MAX_TAIL_COMMITS;
    return tail >= want;
}
