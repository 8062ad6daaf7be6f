/*
 * A stand-in for a QEMU process's guest RAM, for the guest-memory tests: it maps regions and puts
 * their pages into the states the tests check, one command per line on stdin, "ok ..." on stdout.
 * Built by the tests with gcc; C so that its own memory (and VmRSS) holds still between commands.
 *
 *   map PAGES hugepage|small     -> "ok INDEX ADDRESS": a fenced private anonymous region (PROT_NONE
 *                                   pages around it, so it stays its own mapping); hugepage: 2 MiB
 *                                   aligned with MADV_HUGEPAGE, small: MADV_NOHUGEPAGE
 *   unique R FIRST COUNT SEED    -> each page different content (a page number and SEED)
 *   same R FIRST COUNT SEED      -> every page the same non-zero content derived from SEED
 *   zero R FIRST COUNT           -> memset to 0 (the pages stay resident and private)
 *   read R FIRST COUNT           -> read one byte of each page (a never-written page gets a zero page)
 *   dontneed R FIRST COUNT       -> madvise(MADV_DONTNEED)
 *   mergeable R                  -> madvise(MADV_MERGEABLE) on the whole region
 *   unmap R                      -> munmap the region (its address range becomes PROT_NONE reserve)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_REGIONS 16
static char *regions[MAX_REGIONS];
static size_t region_pages[MAX_REGIONS];
static int region_count;
static size_t page;

static void fail(const char *what) {
    printf("error %s\n", what);
    fflush(stdout);
    exit(1);
}

static char *range(int r, size_t first, size_t count) {
    if (r < 0 || r >= region_count || first + count > region_pages[r]) fail("range");
    return regions[r] + first * page;
}

int main(void) {
    page = (size_t) sysconf(_SC_PAGESIZE);
    const size_t huge = 2u << 20;
    char line[256], command[32], kind[32];
    volatile char sink = 0;
    while (fgets(line, sizeof line, stdin)) {
        int r;
        unsigned long long a = 0, b = 0, seed = 0;
        if (sscanf(line, "map %llu %31s", &a, kind) == 2) {
            if (region_count == MAX_REGIONS) fail("too many regions");
            size_t length = a * page;
            size_t reserve = length + 2 * huge + 2 * page;
            char *base = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (base == MAP_FAILED) fail("mmap");
            char *start = (char *) (((uintptr_t) base + page + huge - 1) & ~(uintptr_t) (huge - 1));
            if (mprotect(start, length, PROT_READ | PROT_WRITE)) fail("mprotect");
            if (madvise(start, length, strcmp(kind, "hugepage") == 0 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) fail("madvise");
            regions[region_count] = start;
            region_pages[region_count] = a;
            printf("ok %d %llx\n", region_count++, (unsigned long long) (uintptr_t) start);
        } else if (sscanf(line, "%31s %d %llu %llu %llu", command, &r, &a, &b, &seed) >= 2) {
            if (strcmp(command, "mergeable") == 0) {
                if (madvise(range(r, 0, region_pages[r]), region_pages[r] * page, MADV_MERGEABLE)) fail("mergeable");
            } else if (strcmp(command, "unmap") == 0) {
                if (mmap(range(r, 0, region_pages[r]), region_pages[r] * page, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) fail("unmap");
            } else {
                char *p = range(r, a, b);
                for (size_t i = 0; i < b; i++) {
                    uint64_t *words = (uint64_t *) (p + i * page);
                    if (strcmp(command, "unique") == 0 || strcmp(command, "same") == 0) {
                        uint64_t x = seed * 0x9e3779b97f4a7c15ull + (strcmp(command, "unique") == 0 ? a + i + 1 : 0) + 1;
                        for (size_t w = 0; w < page / 8; w++) {
                            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                            words[w] = x;
                        }
                    } else if (strcmp(command, "zero") == 0) {
                        memset(words, 0, page);
                    } else if (strcmp(command, "read") == 0) {
                        sink += *(volatile char *) words;
                    } else if (strcmp(command, "dontneed") != 0) {
                        fail("command");
                    }
                }
                if (strcmp(command, "dontneed") == 0 && madvise(p, b * page, MADV_DONTNEED)) fail("dontneed");
            }
            printf("ok\n");
        } else {
            fail("syntax");
        }
        fflush(stdout);
    }
    return sink == 42;
}
