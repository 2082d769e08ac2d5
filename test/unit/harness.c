/*-------------------------------------------------------------------------
 *
 * harness.c
 *	  The runner of engage's unit tests (see harness.h) and the state it
 *	  shares with the checks of every file of a test program: the test
 *	  case being run and whether one of its checks failed.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* The test case being run, and whether one of its checks failed */
static const char *current_test = "";
static int	case_failed;

/* Report a failed check */
void
fail_at(const char *file, int line, const char *what)
{
	printf("FAIL %s:%d [%s]: %s\n", file, line, current_test, what);
	case_failed = 1;
}

/*
 * Run the test cases tests[0..n): all of them, or with arguments those
 * whose name contains one of the arguments; after each, call after (if
 * not NULL: frees what the case allocated).  Prints "N passed, N failed"
 * and returns the exit status of the program.
 */
int
run_test_cases(const test_case *tests, size_t n, int argc, char **argv,
			   void (*after) (void))
{
	int			passed = 0,
				failed = 0,
				run,
				a;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		run = argc < 2;
		for (a = 1; a < argc; a++)
			if (strstr(tests[i].name, argv[a]) != NULL)
				run = 1;
		if (!run)
			continue;
		current_test = tests[i].name;
		case_failed = 0;
		tests[i].fn();
		if (after != NULL)
			after();
		if (case_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
