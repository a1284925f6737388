#ifndef SLUICE_DELTA_DELTA_PATHS_H
#define SLUICE_DELTA_DELTA_PATHS_H
/* How Delta writers name data files, in one place for every writer
 * (append, ingest, merge): partitionValues texts, Hive partition
 * directories (Spark's escapePathName), add.path as a relative URI (Hadoop's
 * Path.toUri), and the codec suffix of file names. */
#include <stddef.h>

#include "backend/parquet/pq_writer.h"
#include "backend/util/buf.h"
#include "backend/util/err.h"

/* The partitionValues text of one cell as Spark writes it (doubles in
 * Java's shortest form, dates YYYY-MM-DD, timestamps ISO 8601 in UTC,
 * timestamp_ntz "YYYY-MM-DD HH:MM:SS[.ffffff]"); NULL for a null value and
 * for an empty string (Spark stores it as null). Binary columns cannot be
 * partition columns: SL_DELTA_SCHEMA. */
sl_code delta_partition_text(const pq_schema_col *col, const pq_value *v, char **out,
                             sl_err *err);
/* Appends s (n bytes) escaped for a Hive directory name. */
void delta_dir_escape(sl_buf *b, const char *s, size_t n);
/* The relative path as a URI, what add.path holds. Caller frees. */
char *delta_path_uri(const char *rel);
/* ".snappy", ".gz", ... for data file names ("" when uncompressed). */
const char *delta_codec_suffix(const pq_writer_opts *opts);

#endif
