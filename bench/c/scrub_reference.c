/*
 * The C reference for the guest agent's scrub throughput: map anonymous memory, write one byte to each
 * page (the kernel allocates a zero-filled page on each first write, mm/memory.c do_anonymous_page),
 * unmap it. Prints the figures for one pass; bench/scrub-throughput.sh compiles and runs it.
 *
 *   usage: scrub_reference BYTES
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s BYTES\n", argv[0]);
        return 2;
    }
    char *end;
    unsigned long long bytes = strtoull(argv[1], &end, 10);
    long page = sysconf(_SC_PAGESIZE);
    if (*end != '\0' || bytes == 0 || bytes % (unsigned long long) page != 0) {
        fprintf(stderr, "BYTES must be a positive multiple of the page size (%ld), got %s\n", page, argv[1]);
        return 2;
    }
    struct timespec start, stop;
    clock_gettime(CLOCK_MONOTONIC, &start);
    volatile char *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (unsigned long long offset = 0; offset < bytes; offset += (unsigned long long) page) {
        memory[offset] = 0;
    }
    if (munmap((void *) memory, bytes) != 0) {
        perror("munmap");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &stop);
    double seconds = (double) (stop.tv_sec - start.tv_sec) + (double) (stop.tv_nsec - start.tv_nsec) / 1e9;
    printf("bytes=%llu seconds=%.6f\n", bytes, seconds);
    return 0;
}
