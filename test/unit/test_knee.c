/*-------------------------------------------------------------------------
 *
 * test_knee.c
 *	  Unit tests of the knee of engage's numerical core
 *	  (src/core/knee.c): Kneedle on hand-made curves and kneed's
 *	  examples, errors, and the elbow convenience.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "core/knee.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * knee.c
 * ---------------------------------------------------------------------
 */

/* One Kneedle call; returns the index or -99 on error. */
static long
knee_of(const double *x, const double *y, size_t n, double S,
		ecore_knee_curve c, ecore_knee_direction dir)
{
	long		k = -77;

	if (ecore_knee_locate(x, y, n, S, c, dir, &k) != ECORE_OK)
		return -99;
	return k;
}

/* Hand-made curves; expected values from kneed's algorithm (reference). */
void
test_knee_curves(void)
{
	double		x10[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	double		elbow[10] = {100, 50, 30, 25, 22, 20, 19, 18, 17.5, 17};
	double		line[5] = {5, 4, 3, 2, 1};
	double		cst[4] = {3, 3, 3, 3};
	double		two[2] = {10, 1};
	double		cdec[8] = {100, 99, 97, 93, 85, 70, 45, 0};
	double		bump[9] = {100, 60, 55, 54, 30, 28, 27, 26, 25};
	double		inc[6] = {1, 2, 3, 4, 5, 6};
	double		x0[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	double		readme_inc[10] = {1, 2, 3, 4, 5, 6, 7, 8, 20, 40};
	double		readme_dec[19] = {7342.1301373073857, 6881.7109460930769,
		6531.1657905495022, 6356.2255554679778, 6209.8382535595829,
		6094.9052166741121, 5980.0191582610196, 5880.1869867848218,
		5779.8957906367368, 5691.1879324562778, 5617.5153566271356,
		5532.2613232619951, 5467.352265375117, 5395.4493783888756,
		5345.3459908298091, 5290.6769823693812, 5243.5271656371888,
		5207.2501206569532, 5164.9617535255456};
	double		x19[19];
	int			i;

	for (i = 0; i < 19; i++)
		x19[i] = i + 1;
	/* classic elbow, four curve/direction combinations, S */
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 2);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_INCREASING), 9);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_DECREASING), 9);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_INCREASING), 0);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 3, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 2);
	CHECK_EQ_INT(knee_of(x10, elbow, 10, 0, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 2);
	/* no knee: straight line, constant, two points, wrong shape */
	CHECK_EQ_INT(knee_of(x10, line, 5, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, cst, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, cst, 4, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_INCREASING), -1);
	CHECK_EQ_INT(knee_of(x10, two, 2, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, two, 1, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), -1);
	CHECK_EQ_INT(knee_of(x10, inc, 6, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_INCREASING), -1);
	/* knee at index 0 (maximum of the difference curve at the start) */
	CHECK_EQ_INT(knee_of(x10, cdec, 8, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 0);
	CHECK_EQ_INT(knee_of(x10, cdec, 8, 1, ECORE_KNEE_CONCAVE, ECORE_KNEE_DECREASING), 4);
	CHECK_EQ_INT(knee_of(x10, inc, 6, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 0);
	/* two local maxima: S decides which one */
	CHECK_EQ_INT(knee_of(x10, bump, 9, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 1);
	CHECK_EQ_INT(knee_of(x10, bump, 9, 3, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 4);
	/* kneed's README examples: elbow x = 5, knee x = 7 */
	CHECK_EQ_INT(knee_of(x19, readme_dec, 19, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING), 4);
	CHECK_EQ_INT(knee_of(x0, readme_inc, 10, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_INCREASING), 7);
}

/* Knee errors and the elbow convenience. */
void
test_knee_errors_elbow(void)
{
	double		x[4] = {1, 2, 2, 4};
	double		y[4] = {9, 3, 2, 1};
	double		elbow[10] = {100, 50, 30, 25, 22, 20, 19, 18, 17.5, 17};
	long		k = 0;

	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_CURVE);
	x[2] = 3;
	y[1] = NAN;
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_CURVE);
	y[1] = 3;
	x[0] = -INFINITY;
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_CURVE);
	x[0] = 1;
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, NAN, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 0, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, (ecore_knee_curve) 3, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, (ecore_knee_direction) 3, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(NULL, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_locate(x, y, 4, 1, ECORE_KNEE_CONVEX, ECORE_KNEE_DECREASING, &k), ECORE_OK);
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 10, &k), ECORE_OK);
	CHECK_EQ_INT(k, 3);			/* index 2 = k 3 */
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 2, &k), ECORE_OK);
	CHECK_EQ_INT(k, -1);
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 1, &k), ECORE_OK);
	CHECK_EQ_INT(k, -1);
	CHECK_EQ_INT(ecore_knee_elbow(NULL, 3, &k), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_knee_elbow(elbow, 0, &k), ECORE_EINVAL_N);
}
