/*-------------------------------------------------------------------------
 *
 * engage.h
 *	  engage's settings (GUCs), defined in engage.c.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_H
#define ENGAGE_H

/* engage.max_memory, in kB: memory one clustering call may use */
extern int	engage_max_memory_kb;

/* engage.threads: threads one clustering call may use */
extern int	engage_threads;

#endif							/* ENGAGE_H */
