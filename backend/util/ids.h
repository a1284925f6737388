#ifndef SLUICE_UTIL_IDS_H
#define SLUICE_UTIL_IDS_H

#include <stddef.h>

/* nbytes random bytes (OpenSSL RAND_bytes) as 2*nbytes hex chars + NUL. */
void ids_random_hex(char *out, size_t nbytes);
/* A random (version 4) UUID, 36 chars + NUL. */
void ids_uuid4(char out[37]);

#endif
