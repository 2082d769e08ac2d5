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
#ifndef ENGAGE_RNG_H
#define ENGAGE_RNG_H

#include <stdint.h>

/* State of one xoshiro256** generator. */
typedef struct engage_rng
{
	uint64_t	s[4];
} engage_rng;

/* One splitmix64 step: advances *x and returns the next output. */
static inline uint64_t
engage_splitmix64(uint64_t *x)
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
engage_rng_seed(engage_rng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t	a = seed;
	uint64_t	b = stream ^ UINT64_C(0x6A09E667F3BCC909);
	uint64_t	x;

	x = engage_splitmix64(&a) ^ (engage_splitmix64(&b) * UINT64_C(0xD1B54A32D192ED03));
	rng->s[0] = engage_splitmix64(&x);
	rng->s[1] = engage_splitmix64(&x);
	rng->s[2] = engage_splitmix64(&x);
	rng->s[3] = engage_splitmix64(&x);
	if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
		rng->s[0] = 1;
}

/* Rotate left (helper of xoshiro256**). */
static inline uint64_t
engage_rotl64(uint64_t v, int r)
{
	return (v << r) | (v >> (64 - r));
}

/* Next 64 random bits. */
static inline uint64_t
engage_rng_next(engage_rng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = engage_rotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = engage_rotl64(s[3], 45);
	return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double
engage_rng_uniform(engage_rng *rng)
{
	return (double) (engage_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1] with 53 random bits (never exactly zero). */
static inline double
engage_rng_uniform_pos(engage_rng *rng)
{
	return (double) ((engage_rng_next(rng) >> 11) + 1) * 0x1.0p-53;
}

/*
 * Unbiased uniform integer in [0, bound) for bound >= 1 (rejection of the
 * low 2^64 mod bound values, as OpenBSD's arc4random_uniform).
 */
static inline uint64_t
engage_rng_below(engage_rng *rng, uint64_t bound)
{
	uint64_t	threshold;
	uint64_t	r;

	if (bound <= 1)
		return 0;
	threshold = (UINT64_C(0) - bound) % bound;
	for (;;)
	{
		r = engage_rng_next(rng);
		if (r >= threshold)
			return r % bound;
	}
}

#endif							/* ENGAGE_RNG_H */
