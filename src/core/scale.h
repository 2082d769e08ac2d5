/*-------------------------------------------------------------------------
 *
 * scale.h
 *	  Feature scaling of engage's numerical core: fit, transform and
 *	  inverse transform for 'zscore' (scikit-learn StandardScaler), 'minmax'
 *	  (MinMaxScaler, feature_range (0, 1)), 'log' (FunctionTransformer
 *	  (np.log1p) then StandardScaler), 'robust' (RobustScaler,
 *	  quantile_range (25, 75)) and 'none'.
 *
 * Numerics reproduce scikit-learn 1.2 operation by operation:
 *	 mean  = sum(x) / n
 *	 var   = (S2 - C^2 / n) / n with C = sum(x - mean), S2 = sum((x - mean)^2)
 *			 (corrected two-pass algorithm, Chan, Golub & LeVeque)
 *	 every sum as numpy's np.sum(X, axis=0) on a column-major array (what
 *	 pandas gives scikit-learn): per column, pairwise sums (numpy's
 *	 blocking of 8 and 128) of blocks of 8192 rows, added in order; so the
 *	 parameters are bit-identical to StandardScaler on a DataFrame, and
 *	 accurate to O(log n) roundings (a row-major numpy array is summed
 *	 sequentially by numpy, which can differ in the last digits).
 *	 zscore: a feature is constant when var <= n*eps*var + (n*mean*eps)^2
 *			 (sklearn's _is_constant_feature); scale = sqrt(var), or 1 for a
 *			 constant feature (which then maps to x - mean = 0);
 *			 transform z = (x - mean) / scale; inverse x = z * scale + mean.
 *	 minmax: range = max - min; scale = 1 / range, or 1 when
 *			 range < 10 * eps (constant feature); offset = 0 - min * scale;
 *			 transform z = x * scale + offset (a constant feature maps to 0);
 *			 inverse x = (z - offset) / scale.
 *	 log:	 every value must be >= 0 (ECORE_ENEGATIVE otherwise, with
 *			 env->error_row and error_col); y = log1p(x) (the C library's,
 *			 as Python's math.log1p; numpy's vectorised np.log1p can differ
 *			 by one unit in the last place); scale and offset are zscore's
 *			 fitted on y (the same sums, the same constant rule);
 *			 transform z = (log1p(x) - offset) / scale; inverse
 *			 x = expm1(z * scale + offset).
 *	 robust: offset = the median, scale = q75 - q25, or 1 when below
 *			 10 * eps (sklearn's _handle_zeros_in_scale); the quantiles
 *			 as numpy's np.percentile(x, [25, 75]) (method 'linear'):
 *			 h = q * (n - 1), i = floor(h), g = h - i, a = x(i),
 *			 b = x(i + 1) (sorted order, 0-based; b = a when i = n - 1),
 *			 value a + (b - a) * g when g < 0.5, else b - (b - a) * (1 - g)
 *			 (numpy's _lerp); the median as np.median: the middle value,
 *			 or (a + b) / 2 of the two middle ones; transform and inverse
 *			 as zscore's.  The fit needs n doubles of work space (one
 *			 env->alloc request; see ecore_scaler_fit_bytes).
 *	 none:	 scale = 1, offset = 0, transform and inverse copy.
 * fit computes mean, var, min and max of the raw values for every method
 * (they describe the data whatever the scaling).  transform and inverse use
 * only the method, scale and offset (zscore: offset = mean), so a scaler
 * rebuilt from stored method, scale and offset transforms identically.
 *
 * Glue usage: fit on the raw points, transform them (in place is fine),
 * cluster, then inverse-transform the k centroids to report them in the
 * original units.
 *
 * Plain C99, no PostgreSQL headers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_SCALE_H
#define ECORE_SCALE_H

#include <stddef.h>

#include "core.h"				/* ecore_env, status codes */

/* Scaling methods. */
typedef enum ecore_scale_method
{
	ECORE_SCALE_NONE = 0,
	ECORE_SCALE_ZSCORE = 1,
	ECORE_SCALE_MINMAX = 2,
	ECORE_SCALE_LOG = 3,
	ECORE_SCALE_ROBUST = 4
} ecore_scale_method;

/*
 * A scaler.  The six arrays (d doubles each) live in one block obtained
 * by ecore_scaler_init() from env->alloc; a caller may also point them at
 * its own storage (e.g. to rebuild a scaler from stored parameters) and
 * set method and d itself.
 */
typedef struct ecore_scaler
{
	ecore_scale_method method;
	size_t		d;
	size_t		n;				/* rows seen by the fit */
	double	   *mean;			/* column mean (sklearn mean_) */
	double	   *var;			/* population variance (sklearn var_) */
	double	   *data_min;		/* column minimum (sklearn data_min_) */
	double	   *data_max;		/* column maximum (sklearn data_max_) */
	double	   *scale;			/* zscore: std or 1; minmax: 1/range or 1;
								 * log: std of log1p(x) or 1; robust: the
								 * interquartile range or 1; none: 1
								 * (sklearn scale_) */
	double	   *offset;			/* zscore: mean; minmax: sklearn min_; log:
								 * mean of log1p(x); robust: median
								 * (sklearn center_); none: 0 */
} ecore_scaler;

/*
 * Parse a method name of every scaler: "zscore", "minmax", "log",
 * "robust" or "none" (ASCII case insensitive).  ECORE_EINVAL_ARG when
 * unknown.
 */
extern int	ecore_scale_method_parse_all(const char *name,
										  ecore_scale_method *method);

/*
 * Parse the name of a method whose fit the combinable scaler state of
 * kmeans_step.h supports: "zscore", "minmax" or "none" (ASCII case
 * insensitive; "log" and "robust" are ECORE_EINVAL_ARG here).
 */
extern int	ecore_scale_method_parse(const char *name,
									  ecore_scale_method *method);

/* Name of a method ("zscore", "minmax", "log", "robust", "none"), NULL if invalid. */
extern const char *ecore_scale_method_name(ecore_scale_method method);

/* Bytes ecore_scaler_init() requests (6 * d doubles, one request). */
extern int	ecore_scaler_bytes(size_t d, size_t *bytes);

/* Allocate the arrays through env->alloc and set method and d. */
extern int	ecore_scaler_init(ecore_scaler *s, ecore_scale_method method,
							   size_t d, ecore_env *env);

/*
 * Bytes of work space ecore_scaler_fit() requests from env->alloc for n
 * points (one request): n doubles for robust, 0 for the other methods.
 */
extern int	ecore_scaler_fit_bytes(ecore_scale_method method, size_t n,
									size_t *bytes);

/*
 * Fit on X (n x d, row-major): validates the points (ECORE_ENONFINITE or
 * ECORE_ERANGE with env->error_row; log: ECORE_ENEGATIVE), then fills every
 * array.  No allocation but robust's work space (ecore_scaler_fit_bytes;
 * env->alloc may be NULL for the other methods); env->check per chunk.
 */
extern int	ecore_scaler_fit(ecore_scaler *s, const double *X, size_t n,
							  ecore_env *env);

/*
 * out = transform(X), n x d; out may equal X (in place).  Validates X
 * (NaN/infinity: ECORE_ENONFINITE with env->error_row; log: a negative
 * value is ECORE_ENEGATIVE).  No allocation.
 */
extern int	ecore_scaler_transform(const ecore_scaler *s, const double *X,
									size_t n, double *out, ecore_env *env);

/*
 * out = inverse transform(Z) (normalised -> original units), n x d; out
 * may equal Z.  No allocation.
 */
extern int	ecore_scaler_inverse_transform(const ecore_scaler *s,
											const double *Z, size_t n,
											double *out, ecore_env *env);

/*
 * The ranks (0-based, in sorted order) of the six values robust's fit
 * reads from n >= 1 values: i and i + 1 of q25, the middle one or two,
 * i and i + 1 of q75 (each at most n - 1).
 */
extern void ecore_robust_ranks(size_t n, size_t want[6]);

/*
 * robust's median and interquartile range (before the rule for a small
 * one) from the values vals[r] of those ranks: numpy's np.median and
 * np.percentile(x, [25, 75]) as described above.
 */
extern void ecore_robust_params(size_t n, const double vals[6],
								double *median, double *iqr);

#endif							/* ECORE_SCALE_H */
