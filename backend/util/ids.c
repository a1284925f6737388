#include "backend/util/ids.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>

static void random_bytes(unsigned char *b, size_t n)
{
    if (RAND_bytes(b, (int)n) != 1) {
        /* RAND_bytes only fails when the OS has no entropy source at all. */
        fputs("sluice: no source of randomness\n", stderr);
        abort();
    }
}

void ids_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    if (nbytes > sizeof b)
        nbytes = sizeof b;
    random_bytes(b, nbytes);
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = '\0';
}

void ids_uuid4(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}
