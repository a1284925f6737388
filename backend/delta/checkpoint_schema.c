/* Which columns of a checkpoint the readers project, and how they recognise
 * MAP and LIST groups (modern three-level and legacy two-level forms). */

#include <string.h>

#include "backend/delta/delta_internal.h"
#include "backend/parquet/pq_reader.h"

int delta_cp_action_wanted(const char *name)
{
    static const char *const names[] = {
        "add", "remove",         "metaData",           "protocol",
        "txn", "domainMetadata", "checkpointMetadata", "sidecar"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

int delta_cp_field_wanted(const char *action, const char *field)
{
    (void)action;
    size_t n = strlen(field);
    /* stats_parsed, partitionValues_parsed: typed copies of fields that are
     * also kept as text; decoding them would dominate the read. */
    return !(n > 7 && strcmp(field + n - 7, "_parsed") == 0);
}

int delta_cp_node_is_map(const pq_node *g)
{
    if (g->is_leaf || g->num_children != 1)
        return 0;
    const pq_node *r = g->children[0];
    return r->repetition == PQ_REP_REPEATED && !r->is_leaf && r->num_children == 2 &&
           (g->converted == PQ_CONV_MAP || g->converted == PQ_CONV_MAP_KEY_VALUE ||
            g->logical.kind == PQ_LOGICAL_MAP || r->converted == PQ_CONV_MAP_KEY_VALUE ||
            strcmp(r->name, "key_value") == 0 || strcmp(r->name, "map") == 0);
}

int delta_cp_node_is_list(const pq_node *g)
{
    if (g->is_leaf || g->num_children != 1)
        return 0;
    const pq_node *r = g->children[0];
    if (r->repetition != PQ_REP_REPEATED)
        return 0;
    if (r->is_leaf)
        return 1;
    return r->num_children == 1 &&
           (g->converted == PQ_CONV_LIST || g->logical.kind == PQ_LOGICAL_LIST);
}
