#ifndef SLUICE_DELTA_DELTA_INTERNAL_H
#define SLUICE_DELTA_DELTA_INTERNAL_H

/* Private pieces of backend/delta shared between its files (and its unit
 * tests). Nothing outside backend/delta and tests/ includes this. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/delta/delta.h"
#include "backend/store/store.h"
#include "backend/util/buf.h"
#include "backend/util/err.h"

/* ---- log_list.c: the file names of _delta_log ---------------------------- */

typedef enum delta_log_kind {
    DELTA_LOG_COMMIT,          /* NNN.json */
    DELTA_LOG_CHECKPOINT,      /* NNN.checkpoint.parquet */
    DELTA_LOG_CHECKPOINT_PART, /* NNN.checkpoint.PPPPPPPPPP.TTTTTTTTTT.parquet */
    DELTA_LOG_CHECKPOINT_V2    /* NNN.checkpoint.UUID.json|parquet */
} delta_log_kind;

typedef struct delta_log_name {
    delta_log_kind kind;
    int64_t version;
    int64_t part;  /* DELTA_LOG_CHECKPOINT_PART: 1-based part number */
    int64_t parts; /* DELTA_LOG_CHECKPOINT_PART: total parts */
} delta_log_name;

/* Matches a bare file name (no directory) against the protocol's exact
 * patterns; returns 1 and fills *out on a match, 0 for anything to ignore
 * (.crc, .tmp, _last_checkpoint, compacted files, hidden files, ...). */
int delta_log_name_parse(const char *name, delta_log_name *out);

typedef struct delta_commit_ref {
    int64_t version;
    char *key; /* full store key of the NNN.json file */
    int64_t mtime_ms;
    uint64_t size;
} delta_commit_ref;

/* One complete checkpoint: a classic file, every part of a multi-part set,
 * or a v2 top-level file (its sidecars are named inside it). */
typedef struct delta_checkpoint_ref {
    int64_t version;
    delta_log_kind kind; /* CHECKPOINT, CHECKPOINT_PART or CHECKPOINT_V2 */
    char **keys;         /* full store keys; parts in part order */
    size_t nkeys;
    int64_t mtime_ms; /* newest modification time among the files */
} delta_checkpoint_ref;

typedef struct delta_log_listing {
    char *log_prefix;          /* "<table_key>/_delta_log/" or "_delta_log/" */
    char *where;               /* store URL + "/" + log_prefix, for messages */
    delta_commit_ref *commits; /* ascending by version */
    size_t ncommits;
    int64_t *checkpoints; /* versions with a complete checkpoint, ascending, unique */
    size_t ncheckpoints;
    /* Every complete checkpoint, ascending by version; at one version the
     * preferred one first (classic, then v2, then multi-part). */
    delta_checkpoint_ref *cprefs;
    size_t ncprefs;
    int64_t latest; /* newest version seen (commit or checkpoint) */
} delta_log_listing;

/* Lists _delta_log; SL_DELTA_NOT_A_TABLE when nothing matches. */
sl_code delta_log_list(store *s, const char *table_key, delta_log_listing *out,
                       sl_err *err);
void delta_log_listing_free(delta_log_listing *l);
/* Binary search; NULL when the JSON commit of `version` is absent. */
const delta_commit_ref *delta_log_commit_find(const delta_log_listing *l,
                                              int64_t version);
/* "<table_key>/_delta_log/" for table_key (which may be "" or end in '/').
 * Caller frees. */
char *delta_log_prefix(const char *table_key);

/* ---- log_plan.c: which files rebuild `version` ------------------------- */

/* The ways to rebuild a version, best first: each usable checkpoint at or
 * below it whose later commits are all present (newest first), then JSON
 * commits alone from version 0 when they are all present. */
typedef struct delta_plan {
    const delta_checkpoint_ref **cps; /* borrowed from the listing */
    size_t ncps;
    int json_only; /* commits 0..version all present */
} delta_plan;

/* SL_OK with at least one way. Otherwise SL_DELTA_VERSION_NOT_FOUND (beyond
 * latest, or older than anything kept) or SL_DELTA_GAP (naming the missing
 * version). `use_checkpoints` 0 plans JSON commits only (tests compare the
 * two answers). */
sl_code delta_log_plan(const delta_log_listing *l, int64_t version, int use_checkpoints,
                       delta_plan *out, sl_err *err);
void delta_plan_free(delta_plan *p);

/* ---- json_scan.c: strict JSON validation without building a tree -------- */

typedef struct delta_json_scan {
    const char *end;    /* end of the text being scanned */
    const char *err_at; /* first error position, NULL while valid */
    const char *err_msg;
    int first; /* object iteration state */
} delta_json_scan;

/* A validated piece of the text: a string literal with its quotes, or any
 * other value exactly as written. */
typedef struct delta_json_span {
    const char *p;
    size_t n;
} delta_json_span;

const char *delta_json_ws(const char *p, const char *end);
/* Validates one value at p; returns the byte after it, or NULL (err_at set). */
const char *delta_json_value(delta_json_scan *js, const char *p);
const char *delta_json_string(delta_json_scan *js, const char *p);
/* Object iteration: begin expects '{' (after whitespace); next returns 1
 * with the member's key and value spans, 0 after the closing '}', -1 on
 * invalid text. */
int delta_json_obj_begin(delta_json_scan *js, const char **pp);
int delta_json_obj_next(delta_json_scan *js, const char **pp, delta_json_span *key,
                        delta_json_span *val);
/* Unescaped copy of a validated string span; NULL when not a string or when
 * it holds \u0000. Caller frees. */
char *delta_json_span_str(delta_json_span s);
int delta_json_key_is(delta_json_span key, const char *lit);
/* 0 and *out for an integer literal in int64 range, else -1. */
int delta_json_span_int(delta_json_span s, int64_t *out);
/* 1 when the span's first byte is `first` ('{', '"', 'n' for null ...). */
int delta_json_span_is(delta_json_span s, char first);

/* ---- commit_file.c: one NNN.json file ----------------------------------- */

/* Called once per non-blank line with its 1-based number. */
typedef sl_code (*delta_line_fn)(void *ctx, const char *text, size_t n, size_t line,
                                 sl_err *err);
/* Splits a commit's bytes into lines, skipping blank ones; an empty file or
 * one with only blank lines is SL_DELTA_CORRUPT_LOG naming `key`. */
sl_code delta_commit_lines(const char *data, size_t len, const char *key,
                           delta_line_fn fn, void *ctx, sl_err *err);

/* Called once per action (a JSON object), with its 1-based line number.
 * The callee may json_incref parts it keeps; the action is freed after. */
typedef sl_code (*delta_action_fn)(void *ctx, json_t *action, size_t line, sl_err *err);

/* Called for each top-level member of one action line: name is the action
 * type ("add", "commitInfo", ...) as a string span, value its body. */
typedef sl_code (*delta_member_fn)(void *ctx, delta_json_span name, delta_json_span value,
                                   size_t line, sl_err *err);
/* Strictly validates one action line (a JSON object and nothing after it)
 * while walking its members; errors name key and line. */
sl_code delta_action_members(const char *text, size_t n, const char *key, size_t line,
                             delta_member_fn fn, void *ctx, sl_err *err);

/* delta_commit_lines + a jansson tree per line (for callers that want the
 * actions themselves): malformed lines are SL_DELTA_CORRUPT_LOG. */
sl_code delta_commit_parse(const char *data, size_t len, const char *key,
                           delta_action_fn fn, void *ctx, sl_err *err);
/* commitInfo.inCommitTimestamp, else commitInfo.timestamp; -1 when neither. */
int64_t delta_commit_info_timestamp(const json_t *commit_info);

/* What history needs of one commit, read without a tree per action. */
typedef struct delta_commit_summary {
    json_t *commit_info; /* the first commitInfo object (new reference), or NULL */
    size_t num_add;
    size_t num_remove;
    int has_metadata;
    int has_protocol;
} delta_commit_summary;

sl_code delta_commit_summarize(const char *data, size_t len, const char *key,
                               delta_commit_summary *out, sl_err *err);
/* store_get + delta_commit_summarize. */
sl_code delta_commit_summary_load(store *s, const char *key, delta_commit_summary *out,
                                  sl_err *err);

/* ---- protocol.c --------------------------------------------------------- */

/* 1 when our reader handles the reader feature for log/metadata reading. */
int delta_reader_feature_supported(const char *name);
/* The reader side of a protocol action: SL_DELTA_UNSUPPORTED_FEATURE
 * naming the reader version or the feature, SL_DELTA_CORRUPT_LOG when the
 * action is unusable. `version` only goes into the message. */
sl_code delta_protocol_check(const json_t *protocol, int64_t version, sl_err *err);

/* ---- file_map.c: open-addressing map string -> index --------------------- */

/* One slot in one array: a probe touches one cache line, not three. */
typedef struct delta_fmap_slot {
    char *key;     /* borrowed: owned by whoever holds the entries; NULL: free */
    uint32_t hash; /* low half of the hash: probing and growing skip most strcmp */
    uint32_t val;  /* values are indexes below 2^32 */
} delta_fmap_slot;

typedef struct delta_fmap {
    delta_fmap_slot *slots;
    size_t cap; /* power of two */
    size_t n;
} delta_fmap;

void delta_fmap_init(delta_fmap *m);
void delta_fmap_free(delta_fmap *m);
/* Returns 1 and *val when present. */
int delta_fmap_get(const delta_fmap *m, const char *key, size_t *val);
/* Inserts or replaces; the key pointer must outlive its presence in the map. */
void delta_fmap_put(delta_fmap *m, char *key, size_t val);
/* Returns 1 when a key was removed. */
int delta_fmap_del(delta_fmap *m, const char *key);
/* The same with the key's hash computed once by the caller (one hash serves
 * several maps of the same keys). */
uint64_t delta_fmap_hash(const char *key);
int delta_fmap_get_h(const delta_fmap *m, const char *key, uint64_t h, size_t *val);
void delta_fmap_put_h(delta_fmap *m, char *key, uint64_t h, size_t val);
/* Room for n keys without growing (a checkpoint knows its row count). */
void delta_fmap_reserve(delta_fmap *m, size_t n);

/* A bump allocator for the strings of a snapshot (paths, reconciliation
 * keys, action texts): 100k files would otherwise cost 300k mallocs and as
 * many frees. Strings live until delta_arena_free; nothing is freed alone. */
typedef struct delta_arena {
    struct delta_arena_chunk *head;
    struct delta_arena_owned *owned; /* objects released with the arena */
} delta_arena;

/* A NUL-terminated copy of n bytes. */
char *delta_arena_strndup(delta_arena *a, const char *s, size_t n);
/* n bytes of uninitialised storage, 8-byte aligned. */
void *delta_arena_alloc(delta_arena *a, size_t n);
/* obj is released by drop(obj) when the arena is freed. */
void delta_arena_own(delta_arena *a, void *obj, void (*drop)(void *));
void delta_arena_free(delta_arena *a);

/* ---- replay.c ----------------------------------------------------------- */

/* stats.numRecords from the stats JSON text; returns 0 and sets *out on
 * success, -1 when the text has none or is not a JSON object. */
int delta_stats_num_records(const char *stats, int64_t *out);
/* The same for n bytes that need not be NUL-terminated (or hold a NUL:
 * the text then ends there). */
int delta_stats_num_records_n(const char *stats, size_t n, int64_t *out);

typedef struct delta_replay delta_replay;

delta_replay *delta_replay_new(void);
void delta_replay_free(delta_replay *r);
/* Applies one line (one action) of a commit file; validates it strictly.
 * key and line name the place in errors. */
sl_code delta_replay_line(delta_replay *r, const char *text, size_t n, const char *key,
                          size_t line, sl_err *err);
/* Call before each commit's lines; afterwards commit_ts is that commit's
 * commitInfo time (inCommitTimestamp, else timestamp), -1 when none. */
void delta_replay_commit_begin(delta_replay *r);
int64_t delta_replay_commit_ts(const delta_replay *r);
/* Moves the reconciled state into snap (files sorted by path, rows and size
 * summed); the replay is left empty. */
void delta_replay_finish(delta_replay *r, delta_snapshot *snap);
/* Applies one action given as its name ("add", "metaData", ...) and the JSON
 * text of its body, as a checkpoint row yields it. The text must be valid
 * JSON (checkpoint readers build it). key and row name the place in errors. */
sl_code delta_replay_action(delta_replay *r, const char *name, const char *body, size_t n,
                            const char *key, size_t row, sl_err *err);

typedef struct delta_cp_batch delta_cp_batch;

/* An add or remove's reconciliation fields, read straight from checkpoint
 * columns (strings point into the reader's buffers, not NUL-terminated). */
typedef struct delta_cp_file {
    const char *path;
    size_t path_len;
    int64_t size;               /* 0 when absent, as in a JSON commit */
    int64_t modification_time;  /* 0 when absent */
    int64_t deletion_timestamp; /* -1 when absent */
    int64_t num_records;        /* -1 when the stats have none */
    int has_dv;
    const char *dv_storage, *dv_path; /* NULL when absent */
    size_t dv_storage_len, dv_path_len;
    int has_dv_offset;
    int64_t dv_offset;
    int64_t dv_cardinality;
    /* An add kept as columns (its text NULL): record batch_rec of batch
     * writes its text on demand; take a reference to keep it. */
    delta_cp_batch *batch;
    uint32_t batch_rec;
} delta_cp_file;

/* delta_replay_action for an add (is_add 1) or remove whose fields the
 * caller already has; body is the action's JSON text, kept as the file's
 * add text / remove_json; an add with cf->batch has no text (body NULL) and
 * keeps a reference to the batch instead. Saves scanning text the caller
 * has just written. */
sl_code delta_replay_file(delta_replay *r, int is_add, const delta_cp_file *cf,
                          const char *body, size_t n, const char *key, size_t row,
                          sl_err *err);

/* ---- checkpoint_*.c: actions from checkpoint files ---------------------- */

/* Receives one non-null action of a checkpoint row: its name and body text
 * (valid JSON, owned by the caller). row is 1-based within the file. For add
 * and remove the columnar reader also passes the fields (else cf is NULL).
 * In a lazy read an add's body is NULL (n 0) and cf->batch holds it. */
typedef sl_code (*delta_cp_action_fn)(void *ctx, const char *name, const char *body,
                                      size_t n, const delta_cp_file *cf, size_t row,
                                      sl_err *err);

/* Reads the action columns of one checkpoint Parquet file (classic, a part,
 * a v2 top-level file or a sidecar) and hands every non-null action to fn,
 * row by row. MAP columns become JSON objects, null fields are left out;
 * an add without the stats string but with stats_parsed.numRecords gets
 * "stats":"{\"numRecords\":N}". Errors name the key (SL_PARQUET_*,
 * SL_STORE_*, SL_DELTA_CORRUPT_LOG). */
sl_code delta_checkpoint_parquet_read(store *s, const char *key, delta_cp_action_fn fn,
                                      void *ctx, sl_err *err);
/* The same; lazy_adds 1 lets the columnar reader pass adds without text
 * (see delta_cp_file.batch). */
sl_code delta_checkpoint_parquet_read_ex(store *s, const char *key, int lazy_adds,
                                         delta_cp_action_fn fn, void *ctx, sl_err *err);
/* Forces the row-by-row reader even where the columnar one applies (tests
 * compare the two). */
extern int delta_checkpoint_force_rows;

/* The column selection shared by both readers. */
struct pq_node;
/* The top-level action columns a checkpoint reader projects. */
int delta_cp_action_wanted(const char *name);
/* Which children of an action column to project: everything but the
 * *_parsed typed copies (add.stats_parsed is read for numRecords only). */
int delta_cp_field_wanted(const char *action, const char *field);
/* 1 when the group is a MAP (one repeated child holding key and value). */
int delta_cp_node_is_map(const struct pq_node *g);
/* 1 when the group is a LIST (one repeated child: a leaf, or a group with one
 * leaf). */
int delta_cp_node_is_list(const struct pq_node *g);

/* Row path (checkpoint_rows.c): pq_rows with projection, each action
 * converted (maps to objects) and serialised. Handles every shape. */
struct pq_reader;
sl_code delta_checkpoint_rows_read(struct pq_reader *pr, const char *key,
                                   delta_cp_action_fn fn, void *ctx, sl_err *err);
/* Columnar path (checkpoint_cols.c) for the shapes Delta writers produce:
 * structs, MAP and LIST of primitives, boolean/integer/float/string leaves.
 * For any other shape it returns SL_OK with *other_shape = 1 before reading
 * anything, and the caller takes the row path. With a batch (from
 * delta_cp_batch_new on the same reader) adds are passed without text and
 * their columns kept in the batch. */
sl_code delta_checkpoint_cols_read(struct pq_reader *pr, const char *key,
                                   delta_cp_batch *batch, delta_cp_action_fn fn,
                                   void *ctx, int *other_shape, sl_err *err);

/* The decoded add column of one checkpoint file, kept for the texts of its
 * adds; reference-counted. It takes over pr (closed with the last ref). */
delta_cp_batch *delta_cp_batch_new(struct pq_reader *pr, const char *key);
void delta_cp_batch_ref(delta_cp_batch *b);
/* Rows of the batch's file (an upper bound on its adds). */
size_t delta_cp_batch_rows(const delta_cp_batch *b);
/* void * so that it serves as an arena destructor. */
void delta_cp_batch_unref(void *b);
/* The text of add record rec (the JSON object the row reader would give). */
sl_code delta_cp_batch_add_text(const delta_cp_batch *b, uint32_t rec, sl_buf *out,
                                sl_err *err);

/* Adds kept as columns, written into a checkpoint writer (checkpoint_write.c)
 * straight from their levels and values, without their JSON text: the
 * writer's add fields are matched to a batch's by name and type once per
 * batch, and a cursor per batch walks its records forward (a snapshot's
 * files and the adds of a checkpoint we wrote are both sorted by path). */
struct pq_nwriter;
typedef struct delta_cp_addw delta_cp_addw;
/* w is borrowed. */
delta_cp_addw *delta_cp_addw_new(struct pq_nwriter *w);
void delta_cp_addw_free(delta_cp_addw *a);
/* Writes add record rec of b as one row {add: ...} with dataChange false:
 * the entries the text way (delta_cp_batch_add_text, then
 * pq_shred_member_text) gives. *done 0 (with SL_OK) leaves the record to
 * the text way: a batch whose add columns do not match the writer's, or a
 * row the direct way does not reproduce (the text way then writes it or
 * reports why it cannot). Errors are the writer's. */
sl_code delta_cp_addw_put(delta_cp_addw *a, const delta_cp_batch *b, uint32_t rec,
                          int *done, sl_err *err);
/* Sends every add of delta_checkpoint_write the text way (tests compare
 * the two ways' files). */
extern int delta_checkpoint_text_adds;

/* Applies the whole checkpoint (all parts, a v2 top file and its sidecars)
 * to r. */
sl_code delta_checkpoint_replay(store *s, const delta_log_listing *l,
                                const delta_checkpoint_ref *cp, delta_replay *r,
                                sl_err *err);

/* ---- footer_rows.c: row counts for files without stats ------------------ */

/* %XX-decodes a path from the log; NULL on a bad escape or %00. Caller frees. */
char *delta_path_decode(const char *p);
/* The store key of an absolute URI (already decoded) inside the store
 * ("file:/..." and "file:///..." alike); NULL when it is elsewhere. */
char *delta_uri_to_key(store *s, const char *uri);

/* For each live file without stats.numRecords, reads its data file's
 * Parquet footer (num_rows); a missing or unreadable file keeps -1. Then
 * recomputes snap->num_rows and fills the rows_* counters. */
void delta_footer_rows_fill(store *s, const char *table_key, delta_snapshot *snap);
/* The store key of a data file from add.path (URI-decoded; relative to the
 * table, or an absolute URI inside the store); NULL when it points outside
 * the store or does not decode. Caller frees. */
char *delta_data_file_key(store *s, const char *table_key, const char *path);

/* ---- shared helpers (snapshot.c) ---------------------------------------- */

/* store URL + "/" + table_key, for log lines and messages. Caller frees. */
char *delta_table_target(store *s, const char *table_key);
/* delta_snapshot_open with a choice: use_checkpoints 0 rebuilds from JSON
 * commits alone (tests compare it with the checkpoint answer). */
sl_code delta_snapshot_open_ex(store *s, const char *table_key, const delta_at *at,
                               int use_checkpoints, delta_snapshot **out, sl_err *err);

#endif
