/* SPDX-License-Identifier: ISC */
/*
 * The loop's helper threads (CPU and /proc scans, job file reads, WAL
 * checkpoints): they do blocking work off the loop and wake it through a
 * descriptor. Signals stay the loop's.
 */
#ifndef SCHEDD_THREAD_H
#define SCHEDD_THREAD_H

#include <pthread.h>

/* Starts FN(ARG) with every signal blocked, named NAME (15 bytes at most,
 * as ps -L shows it). 0, or the errno of pthread_create. */
int thread_start(
    pthread_t *thread, void *(*fn)(void *), void *arg, const char *name);

#endif
