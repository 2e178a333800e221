/*
 * zdtm_int.h: what zdtmtst.c and zdtmns.c share inside the library. Not
 * for test programs.
 */
#ifndef ZDTM_INT_H
#define ZDTM_INT_H

#include <sys/types.h>

/* zdtm_ready_fd is the write end of the pipe a test_daemon call writes its
 * ready byte into: the daemonizing parent's in the host flavor, the
 * spawning parent's in a test_spawn child; -1 once used. */
extern int zdtm_ready_fd;
extern int zdtm_failed;
extern char *zdtm_pidfile, *zdtm_outfile;

int zdtm_write_pidfile(pid_t pid);

/* zdtm_ns_wanted is true in the ns flavor (ZDTM_NEWNS=1). */
int zdtm_ns_wanted(void);
/* zdtm_ns_init replaces the daemonizing fork in the ns flavor: it returns
 * only in the new namespace's init. */
void zdtm_ns_init(void);
/* zdtm_ns_daemon does test_daemon's work for the namespace's init and
 * returns 1, or returns 0 when the caller is not that init. */
int zdtm_ns_daemon(void);

#endif
