/*
 * tid_address00: the clear_child_tid address (set_tid_address) survives C/R,
 * as PR_GET_TID_ADDRESS reports it.
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

/* glibc points the main thread's clear_child_tid at its own tid field; the
 * test moves it to a variable of its own. Nothing waits on it: the main
 * thread exiting ends the process anyway. */
static int tid_word;

int main(int argc, char **argv)
{
	int *got = NULL;

	test_init(argc, argv);
	tid_word = syscall(SYS_set_tid_address, &tid_word);

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		syscall(SYS_set_tid_address, &got);
	if (prctl(PR_GET_TID_ADDRESS, &got))
		fail("prctl(PR_GET_TID_ADDRESS)");
	else if (got != &tid_word)
		fail("tid address %p, want %p", (void *)got, (void *)&tid_word);
	if (tid_word != getpid())
		fail("tid word holds %d, want %d", tid_word, getpid());
	pass();
	return test_exit();
}
