/*-------------------------------------------------------------------------
 *
 * knee.h
 *	  Knee / elbow detection of engage's numerical core: the Kneedle
 *	  algorithm exactly as the Python package kneed (KneeLocator with
 *	  online=False, interp_method='interp1d'), used to pick k on the elbow
 *	  curve (curve = convex, direction = decreasing, S = 1).
 *
 * What kneed does, and so this code (operation by operation, in double):
 *	 1. interp1d evaluated at the given x returns y itself.
 *	 2. x_n = (x - min x) / (max x - min x); y_n likewise.
 *	 3. Make the curve "concave increasing": decreasing+convex:
 *		y_t = max(y_n) - y_n; decreasing+concave: y_t = flip(y_n);
 *		increasing+convex: y_t = flip(max(y_n) - y_n); increasing+concave:
 *		y_t = y_n.  Difference curve y_d = y_t - x_n.
 *	 4. Local maxima of y_d: indices i with y_d[i] >= both neighbours,
 *		local minima: <= both neighbours (scipy argrelextrema with
 *		greater_equal / less_equal, mode 'clip': the first and last points
 *		compare with themselves on their open side, so flat stretches and
 *		end points can be both maxima and minima).
 *	 5. Threshold of a maximum i: y_d[i] - S * |mean(diff(x_n))| (the mean
 *		summed as numpy does, pairwise).
 *	 6. Walk i from the first maximum to n - 2: at a maximum, take its
 *		threshold (and remember i); at a minimum, the threshold becomes 0
 *		(a point that is both: 0, keeping i); the knee is the remembered
 *		maximum as soon as y_d[i + 1] < threshold.  The first such knee is
 *		returned (online=False).
 *
 * No knee (index -1) when: n == 1 (kneed itself raises); y constant (the
 * normalised curve is 0/0 = NaN, no maxima); no local maximum; or the
 * difference curve never drops below the threshold of the current
 * maximum before the end (e.g. a straight line, or n == 2, or a concave
 * curve asked as convex).  Because of 4, a local maximum at the first
 * point is allowed: for a decreasing convex curve whose difference curve
 * is highest at index 0 the knee can be index 0.
 *
 * Plain C99, no PostgreSQL headers, no allocation.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_KNEE_H
#define ECORE_KNEE_H

#include <stddef.h>

#include "core.h"				/* status codes */

/* Shape of the curve (kneed's curve argument). */
typedef enum ecore_knee_curve
{
	ECORE_KNEE_CONVEX = 0,
	ECORE_KNEE_CONCAVE = 1
} ecore_knee_curve;

/* Direction of the curve (kneed's direction argument). */
typedef enum ecore_knee_direction
{
	ECORE_KNEE_DECREASING = 0,
	ECORE_KNEE_INCREASING = 1
} ecore_knee_direction;

/*
 * Kneedle on (x[i], y[i]), i < n.  x must be strictly increasing and
 * finite, y finite (else ECORE_EINVAL_CURVE), S finite (else
 * ECORE_EINVAL_ARG), n >= 1 (else ECORE_EINVAL_N).  On ECORE_OK *knee
 * is the index of the knee in x (kneed's knee == x[*knee]) or -1 when
 * there is none (see above).
 */
extern int	ecore_knee_locate(const double *x, const double *y, size_t n,
							   double S, ecore_knee_curve curve,
							   ecore_knee_direction direction, long *knee);

/*
 * Elbow of an inertia curve: inertia[i] is the inertia of k = i + 1.
 * Same as ecore_knee_locate with x = 1..n, S = 1, convex, decreasing.
 * *k_elbow = the chosen k (index + 1), or -1 when there is no knee.
 */
extern int	ecore_knee_elbow(const double *inertia, size_t n, long *k_elbow);

#endif							/* ECORE_KNEE_H */
