/*-------------------------------------------------------------------------
 *
 * rng.h
 *	  Deterministic pseudo-random numbers for the engage numerical core:
 *	  xoshiro256** (Blackman & Vigna) seeded through splitmix64.
 *
 * Everything here is static inline and works on a caller-owned state, so
 * there is no global mutable state.  The sequence depends only on the
 * 64-bit seed and the stream number, never on the platform: the same seed
 * gives the same clustering everywhere.
 *
 * Plain C99, no PostgreSQL headers.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_RNG_H
#define ECORE_RNG_H

#include <stdint.h>

/* State of one xoshiro256** generator. */
typedef struct ecore_rng
{
	uint64_t	s[4];
} ecore_rng;

/* One splitmix64 step: advances *x and returns the next output. */
static inline uint64_t
ecore_splitmix64(uint64_t *x)
{
	uint64_t	z;

	*x += UINT64_C(0x9E3779B97F4A7C15);
	z = *x;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * Seed a generator for stream `stream` of seed `seed` (the k-means restart
 * number is the stream).  Two splitmix64 outputs of the seed and of the
 * stream are combined and expanded into the four state words; the state is
 * never all zero.
 */
static inline void
ecore_rng_seed(ecore_rng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t	a = seed;
	uint64_t	b = stream ^ UINT64_C(0x6A09E667F3BCC909);
	uint64_t	x;

	x = ecore_splitmix64(&a) ^ (ecore_splitmix64(&b) * UINT64_C(0xD1B54A32D192ED03));
	rng->s[0] = ecore_splitmix64(&x);
	rng->s[1] = ecore_splitmix64(&x);
	rng->s[2] = ecore_splitmix64(&x);
	rng->s[3] = ecore_splitmix64(&x);
	if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
		rng->s[0] = 1;
}

/* Rotate left (helper of xoshiro256**). */
static inline uint64_t
ecore_rotl64(uint64_t v, int r)
{
	return (v << r) | (v >> (64 - r));
}

/* Next 64 random bits. */
static inline uint64_t
ecore_rng_next(ecore_rng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = ecore_rotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ecore_rotl64(s[3], 45);
	return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double
ecore_rng_uniform(ecore_rng *rng)
{
	return (double) (ecore_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1] with 53 random bits (never exactly zero). */
static inline double
ecore_rng_uniform_pos(ecore_rng *rng)
{
	return (double) ((ecore_rng_next(rng) >> 11) + 1) * 0x1.0p-53;
}

/*
 * Unbiased uniform integer in [0, bound) for bound >= 1 (rejection of the
 * low 2^64 mod bound values, as OpenBSD's arc4random_uniform).
 */
static inline uint64_t
ecore_rng_below(ecore_rng *rng, uint64_t bound)
{
	uint64_t	threshold;
	uint64_t	r;

	if (bound <= 1)
		return 0;
	threshold = (UINT64_C(0) - bound) % bound;
	for (;;)
	{
		r = ecore_rng_next(rng);
		if (r >= threshold)
			return r % bound;
	}
}

#endif							/* ECORE_RNG_H */
