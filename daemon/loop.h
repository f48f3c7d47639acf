/* SPDX-License-Identifier: ISC */
/*
 * The one event loop's conventions, for every module that adds events to
 * it. Nothing but constants.
 */
#ifndef SCHEDD_LOOP_H
#define SCHEDD_LOOP_H

/*
 * Event priorities (event_base_priority_init(base, SCHEDD_NPRIO)). Reading
 * clients come first: the supervisor's own work (exits, reaping, drains,
 * timers, scans) and the requests that change something (the API queues
 * them) run at SCHEDD_PRIO_WORK, in small batches, and the loop looks for
 * new client events every few callbacks
 * (event_config_set_max_dispatch_interval), so a burst of exits or of
 * stops cannot keep a health check waiting for long.
 */
#define SCHEDD_NPRIO     3
#define SCHEDD_PRIO_WORK 2

#endif
