/*-------------------------------------------------------------------------
 *
 * asan_init_first.c
 *	  Preloaded after the ASan runtime by scripts/sanitize.sh, so that
 *	  Debian's (uninstrumented) postgres can run with an ASan build of
 *	  engage.so.
 *
 *	  With the runtime only preloaded, not linked into the executable, ASan
 *	  initialises itself lazily, at the first malloc.  In Debian 12's
 *	  postgres that first malloc comes from a library constructor
 *	  (libgpg-error's) inside bindtextdomain(), which holds glibc's
 *	  _nl_state_lock for writing; ASan's initialisation calls dlerror(),
 *	  which takes the same lock through dcgettext(), and the lock's state
 *	  is corrupted: the next bindtextdomain() (postgres's main) waits
 *	  forever.  These wrappers of the three gettext functions that allocate
 *	  under that lock initialise ASan first (__asan_init, its public entry
 *	  point, which does nothing once done), outside the lock, then call
 *	  glibc's function.
 *
 *	  Test tooling only: never linked into engage.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

/* the ASan runtime's initialiser (libasan, preloaded before this file) */
extern void __asan_init(void);

char	   *bindtextdomain(const char *domainname, const char *dirname);
char	   *bind_textdomain_codeset(const char *domainname, const char *codeset);
char	   *textdomain(const char *domainname);

typedef char *(*two_args) (const char *, const char *);
typedef char *(*one_arg) (const char *);

/* glibc's definition of a symbol, after this library in the search order */
static void *
next_symbol(const char *name)
{
	__asan_init();
	return dlsym(RTLD_NEXT, name);
}

char *
bindtextdomain(const char *domainname, const char *dirname)
{
	static two_args real;

	if (real == NULL)
		real = (two_args) next_symbol("bindtextdomain");
	return real(domainname, dirname);
}

char *
bind_textdomain_codeset(const char *domainname, const char *codeset)
{
	static two_args real;

	if (real == NULL)
		real = (two_args) next_symbol("bind_textdomain_codeset");
	return real(domainname, codeset);
}

char *
textdomain(const char *domainname)
{
	static one_arg real;

	if (real == NULL)
		real = (one_arg) next_symbol("textdomain");
	return real(domainname);
}
