#ifndef SLUICE_PIPELINE_LEASE_H
#define SLUICE_PIPELINE_LEASE_H
/* A pipeline's lease: one runner at a time per pipeline, across consoles,
 * scheduled runs and hosts, with nothing but the lake's object store.
 *
 * The lease is a chain of small JSON objects under the lake,
 *   _sluice/locks/<pipeline>.<generation>   (generation: 20 digits)
 * each {"owner","host","pid","token","acquired_ms","expires_ms",
 * "generation"} (+ "released": true once let go). The object with the
 * highest generation is the lease. Every change (acquire, takeover, renew,
 * release) creates the next generation with put_if_absent and then checks
 * that no higher generation exists; older generations are deleted. Why this
 * is safe is argued at the top of lease.c.
 *
 * Times are passed in (UTC milliseconds) so tests never sleep. A holder
 * renews well before expiry (LEASE_RENEW_EVERY_MS of LEASE_TTL_MS) and must
 * stop committing once its own clock passes expires_ms without a renewal. */
#include <jansson.h>
#include <stdint.h>

#include "backend/store/store.h"
#include "backend/util/err.h"

#define LEASE_TTL_MS 60000
#define LEASE_RENEW_EVERY_MS 20000

/* Who holds (or held) a lease, for messages, `sluice status` and audit. */
typedef struct lease_holder {
    char owner[256];
    char host[256];
    int64_t pid;
    char token[40];
    int64_t acquired_ms;
    int64_t expires_ms;
    int64_t generation;
    int released;   /* 1: let go by its holder (free) */
    int unreadable; /* 1: the object is not a lease record (owner says so) */
} lease_holder;

typedef struct lease {
    char *key;   /* the object of the current generation */
    char *token; /* this holder's identity, kept across renewals */
    char *owner;
    int64_t expires_ms;
    char *pipeline;
    char *host;
    int64_t pid;
    int64_t acquired_ms;
    int64_t generation;
    int took_over;         /* 1: an expired lease of another holder was taken over */
    lease_holder previous; /* that holder, when took_over (for the audit) */
} lease;

/* Takes the pipeline's lease for ttl_ms from now_ms. SL_LEASE_HELD when
 * another holder's lease has not expired at now_ms: the message names
 * owner, host, pid and expiry (UTC) and *holder_out (may be NULL) is
 * filled. An expired lease is taken over (l->took_over, l->previous); a
 * released or absent one is simply taken. Store errors pass through. */
sl_code lease_acquire(store *lake, const char *pipeline, const char *owner,
                      int64_t now_ms, int64_t ttl_ms, lease **out,
                      lease_holder *holder_out, sl_err *err);

/* Extends the lease to now_ms + ttl_ms. SL_LEASE_LOST when another holder
 * took it over (the message names it); the caller must stop at once. */
sl_code lease_renew(store *lake, lease *l, int64_t now_ms, int64_t ttl_ms, sl_err *err);

/* Lets go: writes a released generation and deletes ours, only while the
 * lease is still ours (SL_LEASE_LOST otherwise; nothing is touched). Does
 * not free l. */
sl_code lease_release(store *lake, lease *l, sl_err *err);

/* The current lease record: *exists 0 when there is none or it was
 * released; an expired lease still exists (compare expires_ms with now). */
sl_code lease_read(store *lake, const char *pipeline, lease_holder *out, int *exists,
                   sl_err *err);

void lease_free(lease *l);

/* The holder for reports, status and audit: {"owner","host","pid",
 * "acquired_ms","expires_ms","expires" (ISO 8601 UTC),"generation"}, plus
 * "released": true or "unreadable": true when so. The token is left out. */
json_t *lease_holder_json(const lease_holder *h);

/* "_sluice/locks/<pipeline>." : the prefix of a pipeline's lease objects.
 * Caller frees. */
char *lease_key_prefix(const char *pipeline);

#endif
