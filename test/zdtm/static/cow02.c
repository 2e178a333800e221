/*
 * cow02: cow01 with a child that leads a process group of its own
 * (setpgid(0, 0) after the fork): it too is forked from its parent at
 * restore, shares the pages again, and leads its group.
 */
#define COW_OWN_GROUP 1
#include "cow01.c"
