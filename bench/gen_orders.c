/* Writes N JSON-lines order rows (about 193 bytes each, 20% null notes),
 * deterministic, for the Parquet benchmarks: gen_orders N FILE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/util/timeutil.h"

static uint64_t next(uint64_t *s)
{
    /* xorshift64*: fast and good enough for test data */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_orders N FILE\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    FILE *fp = fopen(argv[2], "w");
    if (!fp) {
        perror(argv[2]);
        return 1;
    }
    static const char *const status[] = {"placed", "paid", "shipped", "delivered", "returned"};
    static const char *const words[] = {"gift",    "express", "fragile", "leave at door",
                                        "call me", "weekend", "office",  "no invoice"};
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    int64_t base_ms = 1767225600000LL; /* 2026-01-01 */
    char ts[40];
    for (long long i = 0; i < n; i++) {
        uint64_t r = next(&s);
        time_format_iso(base_ms + (int64_t)(r % 31536000000ULL), ts, sizeof ts);
        fprintf(fp,
                "{\"id\":\"ord-%012lld\",\"customer_id\":\"cust-%08llu\",\"amount\":%llu.%02llu,"
                "\"qty\":%llu,\"ts\":\"%s\",\"status\":\"%s\",\"note\":",
                i, (unsigned long long)(r >> 40) % 5000000, (unsigned long long)(r >> 8) % 100000,
                (unsigned long long)(r >> 20) % 100, 1 + (unsigned long long)(r >> 30) % 12, ts,
                status[(r >> 33) % 5]);
        if ((r >> 50) % 5 == 0)
            fputs("null}\n", fp);
        else
            fprintf(fp, "\"customer says: %s, %s, %s, ref %016llx\"}\n", words[(r >> 36) % 8],
                    words[(r >> 39) % 8], words[(r >> 42) % 8],
                    (unsigned long long)next(&s));
    }
    return fclose(fp) == 0 ? 0 : 1;
}
