/* What each pq_type is on disk: physical type, converted and logical
 * annotations, and whether the deprecated signed statistics are right for
 * it. DECIMAL's physical type depends on its precision (pq_column_init). */
#include "backend/parquet/pq_column.h"

#define NO_LOGICAL                                                                       \
    {                                                                                    \
        .kind = PQ_LOGICAL_NONE                                                          \
    }

static const pq_col_type COL_TYPES[] = {
    {PQ_TYPE_BOOLEAN, "boolean", PQ_PHYS_BOOLEAN, PQ_CONV_NONE, NO_LOGICAL, true},
    {PQ_TYPE_INT32, "int32", PQ_PHYS_INT32, PQ_CONV_NONE, NO_LOGICAL, true},
    {PQ_TYPE_INT64, "int64", PQ_PHYS_INT64, PQ_CONV_NONE, NO_LOGICAL, true},
    {PQ_TYPE_DOUBLE, "double", PQ_PHYS_DOUBLE, PQ_CONV_NONE, NO_LOGICAL, true},
    {PQ_TYPE_STRING,
     "string",
     PQ_PHYS_BYTE_ARRAY,
     PQ_CONV_UTF8,
     {.kind = PQ_LOGICAL_STRING},
     false},
    {PQ_TYPE_TIMESTAMP_US,
     "timestamp",
     PQ_PHYS_INT64,
     PQ_CONV_TIMESTAMP_MICROS,
     {.kind = PQ_LOGICAL_TIMESTAMP,
      .ts_adjusted_to_utc = true,
      .ts_unit = PQ_UNIT_MICROS},
     true},
    {PQ_TYPE_FLOAT, "float", PQ_PHYS_FLOAT, PQ_CONV_NONE, NO_LOGICAL, true},
    {PQ_TYPE_BINARY, "binary", PQ_PHYS_BYTE_ARRAY, PQ_CONV_NONE, NO_LOGICAL, false},
    {PQ_TYPE_DATE, "date", PQ_PHYS_INT32, PQ_CONV_DATE, {.kind = PQ_LOGICAL_DATE}, true},
    /* No converted type: TIMESTAMP_MICROS would claim UTC adjustment. */
    {PQ_TYPE_TIMESTAMP_NTZ,
     "timestamp_ntz",
     PQ_PHYS_INT64,
     PQ_CONV_NONE,
     {.kind = PQ_LOGICAL_TIMESTAMP,
      .ts_adjusted_to_utc = false,
      .ts_unit = PQ_UNIT_MICROS},
     true},
    /* Physical type and legacy statistics set per column by precision. */
    {PQ_TYPE_DECIMAL,
     "decimal",
     PQ_PHYS_INT32,
     PQ_CONV_DECIMAL,
     {.kind = PQ_LOGICAL_DECIMAL},
     true},
};

const pq_col_type *pq_col_type_get(pq_type type)
{
    for (size_t i = 0; i < sizeof COL_TYPES / sizeof COL_TYPES[0]; i++)
        if (COL_TYPES[i].type == type)
            return &COL_TYPES[i];
    return NULL;
}
