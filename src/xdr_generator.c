/*-------------------------------------------------------------------------
 *
 * xdr_generator.c
 *	  engage.xdr_rows(total_rows, users, seed, first_row, n): rows of a
 *	  deterministic synthetic xDR data set in the TellCo layout (the 55
 *	  columns of engage.xdr), for tests and benchmarks at any scale.
 *
 * Determinism.  Row i of the data set (total_rows, users, seed) is a pure
 * function of those four numbers: every value comes from a counter-based
 * hash (the splitmix64 finalizer) of the seed, the row number, and a stream
 * number per column, or of the seed and the row's subscriber for the
 * per-subscriber columns.  There is no global state and no call to
 * PostgreSQL's random(), so any set of chunks, produced in any order or in
 * any plan, gives the same rows.
 *
 * Subscribers.  Row numbers are permuted by an affine bijection
 * p = (a * i + b) mod total_rows.  Rows with p < users are the first
 * session of subscriber p, so every subscriber has at least one session.
 * The other total_rows - users rows ("extra" sessions) are laid out along
 * the sessions-per-subscriber histogram of the real TellCo data
 * (77,730 subscribers with 1 session, 21,452 with 2, ..., 1 with 18): extra
 * row j lands on the subscriber at the same position of that histogram's
 * cumulative curve, so at the real ratio of rows to users the histogram of
 * the generated data follows the real one at any scale.
 *
 * Distributions.  Ranges and NULL rates follow the real data (see
 * /work/shared/data/tellco/README.md): Start spreads over April 2019 in row
 * order, End = Start + duration, durations are log-normal (median 86,399 ms)
 * clipped to the real range, per-application bytes are uniform integers in
 * the real ranges, "Total DL (Bytes)" is exactly the sum of the six named
 * applications' DL (not Other) and "Total UL (Bytes)" exactly the sum of all
 * seven applications' UL.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

/* Attributes of engage.xdr, in order */
enum
{
	XDR_BEARER_ID,
	XDR_START,
	XDR_START_MS,
	XDR_END,
	XDR_END_MS,
	XDR_DUR_MS,
	XDR_IMSI,
	XDR_MSISDN,
	XDR_IMEI,
	XDR_LAST_LOCATION,
	XDR_RTT_DL,
	XDR_RTT_UL,
	XDR_TP_DL,
	XDR_TP_UL,
	XDR_TCP_DL,
	XDR_TCP_UL,
	XDR_DL_TP_UNDER_50K,		/* 4 DL throughput shares, summing to 100 */
	XDR_DL_TP_50K_250K,
	XDR_DL_TP_250K_1M,
	XDR_DL_TP_OVER_1M,
	XDR_UL_TP_UNDER_10K,		/* 4 UL throughput shares, summing to 100 */
	XDR_UL_TP_10K_50K,
	XDR_UL_TP_50K_300K,
	XDR_UL_TP_OVER_300K,
	XDR_HTTP_DL,
	XDR_HTTP_UL,
	XDR_ACTIVITY_DL,
	XDR_ACTIVITY_UL,
	XDR_DUR_US,
	XDR_HANDSET_MANUFACTURER,
	XDR_HANDSET_TYPE,
	XDR_SEC_DL_OVER_125000,
	XDR_SEC_UL_1250_6250,
	XDR_SEC_DL_31250_125000,
	XDR_SEC_UL_OVER_37500,
	XDR_SEC_DL_6250_31250,
	XDR_SEC_UL_6250_37500,
	XDR_SEC_DL_UNDER_6250,
	XDR_SEC_UL_UNDER_1250,
	XDR_SOCIAL_DL,				/* 7 applications, DL then UL each */
	XDR_SOCIAL_UL,
	XDR_GOOGLE_DL,
	XDR_GOOGLE_UL,
	XDR_EMAIL_DL,
	XDR_EMAIL_UL,
	XDR_YOUTUBE_DL,
	XDR_YOUTUBE_UL,
	XDR_NETFLIX_DL,
	XDR_NETFLIX_UL,
	XDR_GAMING_DL,
	XDR_GAMING_UL,
	XDR_OTHER_DL,
	XDR_OTHER_UL,
	XDR_TOTAL_UL,
	XDR_TOTAL_DL,
	XDR_NATTS					/* 55 */
};

/* Text attributes of engage.xdr; every other attribute is float8 */
#define XDR_IS_TEXT(att) \
	((att) == XDR_START || (att) == XDR_END || (att) == XDR_LAST_LOCATION || \
	 (att) == XDR_HANDSET_MANUFACTURER || (att) == XDR_HANDSET_TYPE)

/* Number of applications and the largest DL and UL bytes of each */
#define XDR_NAPPS 7
static const double app_max_dl[XDR_NAPPS] = {
	3.6e6, 1.15e7, 3.6e6, 2.3e7, 2.3e7, 8.43e8, 8.43e8
};
static const double app_max_ul[XDR_NAPPS] = {
	6.5e4, 4.3e6, 1.1e6, 2.2e7, 2.2e7, 1.6e7, 1.6e7
};

/* Application index of "Other", left out of "Total DL (Bytes)" */
#define XDR_APP_OTHER 6

/*
 * Sessions-per-subscriber histogram of the real data (subscribers with an
 * MSISDN), heaviest first.
 */
typedef struct SessionClass
{
	int			sessions;
	int			users;
} SessionClass;

static const SessionClass real_sessions[] = {
	{18, 1}, {17, 2}, {16, 1}, {15, 2}, {13, 1}, {12, 5}, {11, 5},
	{10, 12}, {9, 17}, {8, 34}, {7, 75}, {6, 208}, {5, 938}, {4, 1950},
	{3, 4422}, {2, 21452}, {1, 77730}
};

#define N_SESSION_CLASSES lengthof(real_sessions)

/* A handset model and its weight (rows per 10,000 in the real data, about) */
typedef struct Handset
{
	const char *manufacturer;
	const char *type;
	int			weight;
} Handset;

static const Handset handsets[] = {
	{"Apple", "Apple iPhone 6S (A1688)", 628},
	{"Apple", "Apple iPhone 6 (A1586)", 602},
	{"Apple", "Apple iPhone 7 (A1778)", 422},
	{"Apple", "Apple iPhone Se (A1723)", 346},
	{"Apple", "Apple iPhone 8 (A1905)", 333},
	{"Apple", "Apple iPhone Xr (A2105)", 305},
	{"Apple", "Apple iPhone X (A1901)", 254},
	{"Apple", "Apple iPhone 7 Plus (A1784)", 200},
	{"Apple", "Apple iPhone 8 Plus (A1897)", 180},
	{"Apple", "Apple iPhone 5S (A1457)", 150},
	{"Apple", "Apple iPhone 6S Plus (A1687)", 130},
	{"Apple", "Apple iPhone Xs Max (A2101)", 120},
	{"Apple", "Apple iPhone Xs (A2097)", 110},
	{"Apple", "Apple iPhone 6 Plus (A1524)", 100},
	{"Huawei", "Huawei B528S-23A", 1317},
	{"Huawei", "Huawei E5180", 160},
	{"Huawei", "Huawei P20 Lite Huawei Nova 3E", 150},
	{"Huawei", "Huawei P20", 100},
	{"Huawei", "Huawei Y6 2018", 90},
	{"Huawei", "Huawei Mate 20 Lite", 80},
	{"Huawei", "Huawei P Smart", 80},
	{"Huawei", "Huawei Y7 2019", 70},
	{"Huawei", "Huawei P30 Lite", 70},
	{"Huawei", "Huawei B525S-23A", 60},
	{"Huawei", "Huawei Y5 2018", 60},
	{"Huawei", "Huawei E5576", 55},
	{"Samsung", "Samsung Galaxy S8 (Sm-G950F)", 301},
	{"Samsung", "Samsung Galaxy A5 Sm-A520F", 250},
	{"Samsung", "Samsung Galaxy J5 (Sm-J530)", 240},
	{"Samsung", "Samsung Galaxy J3 (Sm-J330)", 200},
	{"Samsung", "Samsung Galaxy S7 (Sm-G930X)", 190},
	{"Samsung", "Samsung Galaxy A8 (2018)", 170},
	{"Samsung", "Samsung Galaxy S9 (Sm-G960F)", 170},
	{"Samsung", "Samsung Galaxy J6 (Sm-J600X)", 150},
	{"Samsung", "Samsung Galaxy S9 Plus (Sm-G965F)", 130},
	{"Samsung", "Samsung Galaxy A7 (2018)", 120},
	{"Samsung", "Samsung Sm-G390F", 120},
	{"Samsung", "Samsung Galaxy S10 (Sm-G973F)", 110},
	{"Samsung", "Samsung Galaxy J7 Prime", 110},
	{"Samsung", "Samsung Galaxy Note 8 (Sm-N950F)", 100},
	{"Samsung", "Samsung Galaxy A10 (Sm-A105X)", 100},
	{"Samsung", "Samsung Galaxy A40 (Sm-A405F)", 90},
	{"Samsung", "Samsung Galaxy A6 (Sm-A600X)", 80},
	{"undefined", "undefined", 599},
	{"Sony Mobile Communications Ab", "Sony Xperia Xa1 (G3121)", 65},
	{"Wiko Global Sas", "Wiko Lenny5", 50},
	{"Xiaomi Communications Co Ltd", "Xiaomi Redmi Note 5", 40},
	{"Spa Condor Electronics", "Condor Allure M1", 32},
	{"Lenovo Mobile Communication Technology Ltd", "Lenovo K6 Note", 32},
	{"Tcl Communication Ltd", "Alcatel 1X", 25},
	{"Asustek Computer Inc", "Asus Zenfone Max Pro M1", 20}
};

#define N_HANDSETS lengthof(handsets)

/* Handset lookup table: a uniform 12-bit hash picks a weighted handset */
#define HANDSET_LUT_BITS 12
#define HANDSET_LUT_SIZE (1 << HANDSET_LUT_BITS)

/* Number of distinct cell locations ("Last Location Name") */
#define N_LOCATIONS 50000

/* Time span of Start: 2019-04-01 00:00 to 2019-05-01 00:00, in ms */
#define START_SPAN_MS ((double) 30 * 86400 * 1000)

/* Duration bounds (ms) and log-normal parameters */
#define DUR_MIN_MS 7142
#define DUR_MAX_MS 1859336
#define DUR_MEDIAN_MS 86399.0
#define DUR_SIGMA 0.62

/* MSISDN and IMSI: bases and sizes of the per-subscriber number ranges */
#define MSISDN_BASE 33600000000.0
#define MSISDN_BLOCK_A 10000	/* 2e8 = 10,000 x 20,000 */
#define MSISDN_BLOCK_B 20000
#define IMSI_BASE 208200000000000.0
#define IMSI_BLOCK_A 40000		/* 2e9 = 40,000 x 50,000 */
#define IMSI_BLOCK_B 50000

/* Hash streams: one per random draw of a row or of a subscriber */
enum
{
	S_NO_IDENTITY,
	S_NO_MSISDN,
	S_BEARER_NULL,
	S_BEARER,
	S_START,
	S_DUR,
	S_DUR_US,
	S_LOCATION_NULL,
	S_LOCATION_HOME,
	S_LOCATION,
	S_RTT_NULL,
	S_RTT_DL,
	S_RTT_UL,
	S_TP_DL_MODE,
	S_TP_DL,
	S_TP_UL_MODE,
	S_TP_UL,
	S_TCP_DL_NULL,
	S_TCP_DL,
	S_TCP_UL_NULL,
	S_TCP_UL,
	S_NO_TP_SHARES,
	S_DL_SHARES,
	S_DL_SHARES_SPLIT,
	S_UL_SHARES,
	S_UL_SHARES_SPLIT,
	S_HTTP_NULL,
	S_HTTP_DL,
	S_HTTP_UL,
	S_ACTIVITY_DL,
	S_ACTIVITY_UL,
	S_SEC_DL_LOW,
	S_SEC_UL_LOW,
	S_SEC_MID,					/* 6 streams: S_SEC_MID .. S_SEC_MID + 5 */
	S_APP = S_SEC_MID + 6,		/* 14 streams: S_APP .. S_APP + 13 */
	/* per-subscriber streams */
	S_USER_MSISDN = S_APP + 2 * XDR_NAPPS,
	S_USER_IMSI,
	S_USER_IMEI,
	S_USER_HANDSET,
	S_USER_LOCATION
};

/*
 * The 6 "Nb of sec" columns that are mostly NULL: attribute, NULL rate and
 * median of the (log-normal) number of seconds.
 */
typedef struct SecColumn
{
	int			att;
	double		null_rate;
	double		median;
} SecColumn;

static const SecColumn sec_columns[6] = {
	{XDR_SEC_DL_OVER_125000, 0.6502, 20.0},
	{XDR_SEC_UL_1250_6250, 0.6193, 10.0},
	{XDR_SEC_DL_31250_125000, 0.6239, 15.0},
	{XDR_SEC_UL_OVER_37500, 0.8684, 5.0},
	{XDR_SEC_DL_6250_31250, 0.5888, 20.0},
	{XDR_SEC_UL_6250_37500, 0.7456, 8.0}
};

/* Everything a call needs, built on the first call */
typedef struct XdrState
{
	int64		total_rows;
	int64		users;
	int64		first_row;
	uint64		row_key;		/* seed key of the per-row streams */
	uint64		user_key;		/* seed key of the per-subscriber streams */
	uint64		perm_a;			/* row permutation p = (a * i + b) mod total */
	uint64		perm_b;
	uint64		msisdn_a;		/* MSISDN range: msisdn_a x MSISDN_BLOCK_B */
	uint64		imsi_a;			/* IMSI range: imsi_a x IMSI_BLOCK_B */
	uint64		msisdn_key;		/* keys of the MSISDN and IMSI bijections */
	uint64		imsi_key;
	int			start_julian;	/* Julian day of 2019-04-01 */

	/* cumulative curve of real_sessions, classes with 2 sessions or more */
	int			nseg;
	double		seg_x_end[N_SESSION_CLASSES];	/* share of extra rows */
	double		seg_x_start[N_SESSION_CLASSES];
	double		seg_t_start[N_SESSION_CLASSES]; /* share of subscribers */
	double		seg_slope[N_SESSION_CLASSES];

	uint8		handset_lut[HANDSET_LUT_SIZE];
	Datum		handset_manufacturer[N_HANDSETS];
	Datum		handset_type[N_HANDSETS];

	/* reusable varlena buffers of the per-row text values */
	text	   *start_text;
	text	   *end_text;
	text	   *location_text;

	Datum		values[XDR_NATTS];
	bool		nulls[XDR_NATTS];
} XdrState;

/* splitmix64 finalizer: a bijective 64-bit mixer */
static inline uint64
mix64(uint64 z)
{
	z ^= z >> 30;
	z *= UINT64CONST(0xbf58476d1ce4e5b9);
	z ^= z >> 27;
	z *= UINT64CONST(0x94d049bb133111eb);
	z ^= z >> 31;
	return z;
}

/* Hash of draw `stream` of the row or subscriber whose hash base is `base` */
static inline uint64
stream_hash(uint64 base, int stream)
{
	return mix64(base + (uint64) (stream + 1) * UINT64CONST(0x9e3779b97f4a7c15));
}

/* Uniform double in [0, 1) from the high 53 bits of a hash */
static inline double
hash_unit(uint64 h)
{
	return (double) (h >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform draw in [0, 1) of one stream */
static inline double
draw_unit(uint64 base, int stream)
{
	return hash_unit(stream_hash(base, stream));
}

/* Uniform integer draw in [0, max] of one stream (max < 2^53) */
static inline double
draw_uniform_int(uint64 base, int stream, double max)
{
	return floor(draw_unit(base, stream) * (max + 1.0));
}

/* Standard normal draw of one stream (Box-Muller on two 32-bit halves) */
static inline double
draw_normal(uint64 base, int stream)
{
	uint64		h = stream_hash(base, stream);
	double		u1 = ((double) (h >> 32) + 0.5) * (1.0 / 4294967296.0);
	double		u2 = (double) (h & UINT64CONST(0xffffffff)) * (1.0 / 4294967296.0);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Log-normal draw rounded to an integer and clipped to [lo, hi] */
static inline double
draw_lognormal(uint64 base, int stream, double median, double sigma,
			   double lo, double hi)
{
	double		v = rint(median * exp(sigma * draw_normal(base, stream)));

	return v < lo ? lo : (v > hi ? hi : v);
}

/* (a * b) mod m without overflow, for a, b < m <= 2^63 */
static uint64
mulmod(uint64 a, uint64 b, uint64 m)
{
#ifdef HAVE_INT128
	return (uint64) (((uint128) a * b) % m);
#else
	uint64		r = 0;

	if (a < UINT64CONST(0x100000000) && b < UINT64CONST(0x100000000))
		return (a * b) % m;
	while (b > 0)
	{
		if (b & 1)
			r = (r >= m - a) ? r - (m - a) : r + a;
		a = (a >= m - a) ? a - (m - a) : a + a;
		b >>= 1;
	}
	return r;
#endif
}

/* Greatest common divisor */
static uint64
gcd64(uint64 a, uint64 b)
{
	while (b != 0)
	{
		uint64		t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * A multiplier coprime to m that scatters consecutive numbers: near m times
 * the golden ratio's fractional part, moved by the hash h.
 */
static uint64
coprime_multiplier(uint64 m, uint64 h)
{
	uint64		a;

	if (m <= 2)
		return 1;
	a = (uint64) ((double) m * 0.6180339887498949) + h % (m / 16 + 1);
	a = a % (m - 1) + 1;		/* in [1, m - 1] */
	while (gcd64(a, m) != 1)
		a = a % (m - 1) + 1;
	return a;
}

/*
 * A keyed bijection of [0, A * B): four rounds of a Feistel network on the
 * pair (x / B, x % B), each round adding a hash of one half to the other.
 */
static uint64
feistel_permute(uint64 x, uint64 A, uint64 B, uint64 key)
{
	uint64		l = x / B;
	uint64		r = x % B;
	int			round;

	for (round = 0; round < 4; round += 2)
	{
		l = (l + mix64(key + r * 2 + (uint64) round)) % A;
		r = (r + mix64(key + l * 2 + (uint64) round + 1)) % B;
	}
	return l * B + r;
}

/* Subscriber of row i */
static int64
row_user(const XdrState *st, int64 i)
{
	uint64		p = (mulmod(st->perm_a, (uint64) i, (uint64) st->total_rows) +
					 st->perm_b) % (uint64) st->total_rows;
	int64		extras = st->total_rows - st->users;
	double		x;
	double		t;
	int64		user;
	int			k;

	if ((int64) p < st->users)
		return (int64) p;		/* first session of subscriber p */

	/* extra session: position x on the real cumulative curve */
	x = ((double) ((int64) p - st->users) + 0.5) / (double) extras;
	for (k = 0; k < st->nseg - 1; k++)
		if (x < st->seg_x_end[k])
			break;
	t = st->seg_t_start[k] + (x - st->seg_x_start[k]) * st->seg_slope[k];
	user = (int64) (t * (double) st->users);
	if (user < 0)
		user = 0;
	if (user >= st->users)
		user = st->users - 1;
	return user;
}

/* Write v in decimal at p; return the position after the last digit */
static inline char *
put_uint(char *p, unsigned int v)
{
	char		tmp[10];
	int			n = 0;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/*
 * Set the text t to the CSV form "M/D/YYYY H:MM" of the time `sec` seconds
 * after 2019-04-01 00:00.
 */
static void
set_time_text(const XdrState *st, text *t, int64 sec)
{
	char	   *start = VARDATA(t);
	char	   *p = start;
	int			year;
	int			month;
	int			day;
	int			secs_of_day = (int) (sec % 86400);
	int			minute = (secs_of_day / 60) % 60;

	j2date(st->start_julian + (int) (sec / 86400), &year, &month, &day);
	p = put_uint(p, (unsigned int) month);
	*p++ = '/';
	p = put_uint(p, (unsigned int) day);
	*p++ = '/';
	p = put_uint(p, (unsigned int) year);
	*p++ = ' ';
	p = put_uint(p, (unsigned int) (secs_of_day / 3600));
	*p++ = ':';
	*p++ = (char) ('0' + minute / 10);
	*p++ = (char) ('0' + minute % 10);
	SET_VARSIZE(t, VARHDRSZ + (p - start));
}

/*
 * Set the text t to the name of cell location `loc`, like "D42335A": a
 * letter, five digits and a letter (mostly A).
 */
static void
set_location_text(text *t, uint64 loc)
{
	uint64		h = mix64(loc + UINT64CONST(0x6a09e667f3bcc909));
	char	   *p = VARDATA(t);
	unsigned int digits = (unsigned int) ((h >> 8) % 100000);
	unsigned int suffix = (unsigned int) ((h >> 40) % 16);
	int			d;

	p[0] = (char) ('A' + h % 26);
	for (d = 5; d >= 1; d--)
	{
		p[d] = (char) ('0' + digits % 10);
		digits /= 10;
	}
	p[6] = (char) (suffix < 13 ? 'A' : 'A' + (suffix - 12));
	SET_VARSIZE(t, VARHDRSZ + 7);
}

/*
 * Set the 4 shares (%) of one direction's throughput classes, summing to
 * exactly 100: mostly all in the lowest class, otherwise a skewed remainder
 * spread over the three others.
 */
static void
set_tp_shares(XdrState *st, int first_att, uint64 base, int stream,
			  int split_stream, double p_nonzero, double power)
{
	double		u = draw_unit(base, stream);
	double		rest = 0.0;
	double		b2 = 0.0;
	double		b3 = 0.0;

	if (u < p_nonzero)
	{
		uint64		h = stream_hash(base, split_stream);
		double		w1 = (double) (h & 0xffff) / 65536.0;
		double		w2 = (double) ((h >> 16) & 0xffff) / 65536.0;
		double		v = (double) ((h >> 32) & 0xffffffff) / 4294967296.0;

		rest = floor(101.0 * pow(v, power));
		b2 = floor(rest * w1);
		b3 = floor((rest - b2) * w2);
	}
	st->values[first_att] = Float8GetDatum(100.0 - rest);
	st->values[first_att + 1] = Float8GetDatum(b2);
	st->values[first_att + 2] = Float8GetDatum(b3);
	st->values[first_att + 3] = Float8GetDatum(rest - b2 - b3);
}

/* Fill st->values and st->nulls with row i */
static void
fill_row(XdrState *st, int64 i)
{
	Datum	   *values = st->values;
	bool	   *nulls = st->nulls;
	int64		user = row_user(st, i);
	uint64		rb = mix64(st->row_key + (uint64) i * UINT64CONST(0x9e3779b97f4a7c15));
	uint64		ub = mix64(st->user_key + (uint64) user * UINT64CONST(0x9e3779b97f4a7c15));
	double		start_abs_ms;
	double		dur;
	double		end_abs_ms;
	double		total_dl = 0.0;
	double		total_ul = 0.0;
	double		dur_s;
	double		low_share;
	bool		no_identity;
	int			handset;
	int			a;

	memset(nulls, 0, sizeof(st->nulls));

	/* Bearer Id: two clusters, about 7e18 and 1.31e19 */
	if (draw_unit(rb, S_BEARER_NULL) < 0.0066)
		nulls[XDR_BEARER_ID] = true;
	else
	{
		uint64		h = stream_hash(rb, S_BEARER);

		if ((h & 0xff) < 115)
			values[XDR_BEARER_ID] = Float8GetDatum(6.9175e18 + hash_unit(h) * 0.9e18);
		else
			values[XDR_BEARER_ID] = Float8GetDatum(1.31144e19 + hash_unit(h) * 7.2e16);
	}

	/* Start: April 2019 in row order; End = Start + duration */
	start_abs_ms = floor(((double) i + draw_unit(rb, S_START)) *
						 (START_SPAN_MS / (double) st->total_rows));
	dur = draw_lognormal(rb, S_DUR, DUR_MEDIAN_MS, DUR_SIGMA,
						 DUR_MIN_MS, DUR_MAX_MS);
	end_abs_ms = start_abs_ms + dur;
	set_time_text(st, st->start_text, (int64) (start_abs_ms / 1000.0));
	set_time_text(st, st->end_text, (int64) (end_abs_ms / 1000.0));
	values[XDR_START] = PointerGetDatum(st->start_text);
	values[XDR_END] = PointerGetDatum(st->end_text);
	values[XDR_START_MS] = Float8GetDatum(fmod(start_abs_ms, 1000.0));
	values[XDR_END_MS] = Float8GetDatum(fmod(end_abs_ms, 1000.0));
	values[XDR_DUR_MS] = Float8GetDatum(dur);
	values[XDR_DUR_US] = Float8GetDatum(dur * 1000.0 +
										draw_uniform_int(rb, S_DUR_US, 999.0));

	/* Subscriber identity: MSISDN, IMSI, IMEI and handset */
	no_identity = draw_unit(rb, S_NO_IDENTITY) < 0.0038;
	if (no_identity || draw_unit(rb, S_NO_MSISDN) < 0.0033)
		nulls[XDR_MSISDN] = true;
	else
		values[XDR_MSISDN] = Float8GetDatum(MSISDN_BASE + (double)
											feistel_permute((uint64) user, st->msisdn_a,
															MSISDN_BLOCK_B, st->msisdn_key));
	if (no_identity)
	{
		nulls[XDR_IMSI] = true;
		nulls[XDR_IMEI] = true;
		nulls[XDR_HANDSET_MANUFACTURER] = true;
		nulls[XDR_HANDSET_TYPE] = true;
	}
	else
	{
		uint64		h = stream_hash(ub, S_USER_IMEI);

		values[XDR_IMSI] = Float8GetDatum(IMSI_BASE + (double)
										  feistel_permute((uint64) user, st->imsi_a,
														  IMSI_BLOCK_B, st->imsi_key));
		if ((h & 0xff) < 218)
			values[XDR_IMEI] = Float8GetDatum(3.5e13 + (double) ((h >> 8) % UINT64CONST(1000000000000)));
		else
			values[XDR_IMEI] = Float8GetDatum(3.6e13 + (double) ((h >> 8) % UINT64CONST(50000000000000)));
		handset = st->handset_lut[stream_hash(ub, S_USER_HANDSET) >> (64 - HANDSET_LUT_BITS)];
		values[XDR_HANDSET_MANUFACTURER] = st->handset_manufacturer[handset];
		values[XDR_HANDSET_TYPE] = st->handset_type[handset];
	}

	/* Last Location Name: mostly the subscriber's home cell */
	if (draw_unit(rb, S_LOCATION_NULL) < 0.0077)
		nulls[XDR_LAST_LOCATION] = true;
	else
	{
		uint64		loc;

		if (draw_unit(rb, S_LOCATION_HOME) < 0.7)
			loc = stream_hash(ub, S_USER_LOCATION) % N_LOCATIONS;
		else
			loc = stream_hash(rb, S_LOCATION) % N_LOCATIONS;
		set_location_text(st->location_text, loc);
		values[XDR_LAST_LOCATION] = PointerGetDatum(st->location_text);
	}

	/* Round-trip times: NULL together in about 18.5% of rows */
	if (draw_unit(rb, S_RTT_NULL) < 0.1855)
	{
		nulls[XDR_RTT_DL] = true;
		nulls[XDR_RTT_UL] = true;
	}
	else
	{
		values[XDR_RTT_DL] = Float8GetDatum(draw_lognormal(rb, S_RTT_DL, 45.0, 1.0, 0.0, 96923.0));
		values[XDR_RTT_UL] = Float8GetDatum(draw_lognormal(rb, S_RTT_UL, 5.0, 1.2, 0.0, 7120.0));
	}

	/* Average bearer throughputs: slow sessions and fast ones */
	if (draw_unit(rb, S_TP_DL_MODE) < 0.6)
		values[XDR_TP_DL] = Float8GetDatum(draw_lognormal(rb, S_TP_DL, 30.0, 1.0, 0.0, 378160.0));
	else
		values[XDR_TP_DL] = Float8GetDatum(draw_lognormal(rb, S_TP_DL, 15000.0, 1.3, 0.0, 378160.0));
	if (draw_unit(rb, S_TP_UL_MODE) < 0.6)
		values[XDR_TP_UL] = Float8GetDatum(draw_lognormal(rb, S_TP_UL, 35.0, 1.0, 0.0, 58613.0));
	else
		values[XDR_TP_UL] = Float8GetDatum(draw_lognormal(rb, S_TP_UL, 2000.0, 1.2, 0.0, 58613.0));

	/* TCP retransmission volumes: mostly NULL */
	if (draw_unit(rb, S_TCP_DL_NULL) < 0.5876)
		nulls[XDR_TCP_DL] = true;
	else
		values[XDR_TCP_DL] = Float8GetDatum(draw_lognormal(rb, S_TCP_DL, 568730.0, 2.3, 2.0, 4294426000.0));
	if (draw_unit(rb, S_TCP_UL_NULL) < 0.6443)
		nulls[XDR_TCP_UL] = true;
	else
		values[XDR_TCP_UL] = Float8GetDatum(draw_lognormal(rb, S_TCP_UL, 20950.0, 2.3, 1.0, 2908226000.0));

	/*
	 * Throughput shares and the two low-volume "Nb of sec" columns: NULL
	 * together in about 0.5% of rows
	 */
	dur_s = floor(dur / 1000.0);
	if (draw_unit(rb, S_NO_TP_SHARES) < 0.005)
	{
		for (a = XDR_DL_TP_UNDER_50K; a <= XDR_UL_TP_OVER_300K; a++)
			nulls[a] = true;
		nulls[XDR_SEC_DL_UNDER_6250] = true;
		nulls[XDR_SEC_UL_UNDER_1250] = true;
	}
	else
	{
		set_tp_shares(st, XDR_DL_TP_UNDER_50K, rb, S_DL_SHARES,
					  S_DL_SHARES_SPLIT, 0.4, 4.0);
		set_tp_shares(st, XDR_UL_TP_UNDER_10K, rb, S_UL_SHARES,
					  S_UL_SHARES_SPLIT, 0.15, 8.0);
		low_share = draw_unit(rb, S_SEC_DL_LOW);
		values[XDR_SEC_DL_UNDER_6250] = Float8GetDatum(floor((dur_s + 1.0) * low_share));
		values[XDR_SEC_UL_UNDER_1250] =
			Float8GetDatum(fmin(dur_s, floor((dur_s + 1.0) * low_share *
											 (0.85 + 0.3 * draw_unit(rb, S_SEC_UL_LOW)))));
	}

	/* The other "Nb of sec" columns: mostly NULL, small counts */
	for (a = 0; a < 6; a++)
	{
		uint64		h = stream_hash(rb, S_SEC_MID + a);

		if (hash_unit(h) < sec_columns[a].null_rate)
			nulls[sec_columns[a].att] = true;
		else
			values[sec_columns[a].att] =
				Float8GetDatum(draw_lognormal(h, 0, sec_columns[a].median, 1.2,
											  1.0, fmax(1.0, dur_s)));
	}

	/* HTTP volumes: NULL together in about 54% of rows */
	if (draw_unit(rb, S_HTTP_NULL) < 0.5432)
	{
		nulls[XDR_HTTP_DL] = true;
		nulls[XDR_HTTP_UL] = true;
	}
	else
	{
		values[XDR_HTTP_DL] = Float8GetDatum(draw_lognormal(rb, S_HTTP_DL, 1.0e5, 2.8, 0.0, 7.2e10));
		values[XDR_HTTP_UL] = Float8GetDatum(draw_lognormal(rb, S_HTTP_UL, 1.5e4, 2.5, 0.0, 4.26e9));
	}

	/* Activity durations: 0 in about 15% of rows, heavy-tailed otherwise */
	{
		uint64		hd = stream_hash(rb, S_ACTIVITY_DL);
		uint64		hu = stream_hash(rb, S_ACTIVITY_UL);

		values[XDR_ACTIVITY_DL] = Float8GetDatum(hash_unit(hd) < 0.15 ? 0.0 :
												 draw_lognormal(hd, 0, 20000.0, 2.5, 0.0, 136536461.0));
		values[XDR_ACTIVITY_UL] = Float8GetDatum(hash_unit(hu) < 0.15 ? 0.0 :
												 draw_lognormal(hu, 0, 25000.0, 2.3, 0.0, 144911293.0));
	}

	/* Per-application bytes, never NULL, and the exact totals */
	for (a = 0; a < XDR_NAPPS; a++)
	{
		double		dl = draw_uniform_int(rb, S_APP + 2 * a, app_max_dl[a]);
		double		ul = draw_uniform_int(rb, S_APP + 2 * a + 1, app_max_ul[a]);

		values[XDR_SOCIAL_DL + 2 * a] = Float8GetDatum(dl);
		values[XDR_SOCIAL_UL + 2 * a] = Float8GetDatum(ul);
		if (a != XDR_APP_OTHER)
			total_dl += dl;
		total_ul += ul;
	}
	values[XDR_TOTAL_DL] = Float8GetDatum(total_dl);
	values[XDR_TOTAL_UL] = Float8GetDatum(total_ul);
}

/* Reject arguments that do not describe a data set and a range of its rows */
static void
check_arguments(int64 total_rows, int64 users, int64 first_row, int64 n)
{
	if (users < 1 || users > total_rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("users must be between 1 and total_rows"),
				 errdetail("users is %lld and total_rows is %lld.",
						   (long long) users, (long long) total_rows),
				 errhint("Every subscriber has at least one session, so a data set needs at least as many rows as users.")));
	if (first_row < 0 || n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("first_row and n must not be negative"),
				 errdetail("first_row is %lld and n is %lld.",
						   (long long) first_row, (long long) n)));
	if (first_row > total_rows || n > total_rows - first_row)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("first_row + n must not exceed total_rows"),
				 errdetail("first_row is %lld, n is %lld and total_rows is %lld; rows are numbered from 0.",
						   (long long) first_row, (long long) n,
						   (long long) total_rows)));
}

/* Check that the result type is the 55-column layout of engage.xdr */
static void
check_result_type(TupleDesc tupdesc)
{
	int			att;

	if (tupdesc->natts != XDR_NATTS)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("xdr_rows must return a row type with %d columns, not %d",
						XDR_NATTS, tupdesc->natts)));
	for (att = 0; att < XDR_NATTS; att++)
	{
		Form_pg_attribute attr = TupleDescAttr(tupdesc, att);
		Oid			expected = XDR_IS_TEXT(att) ? TEXTOID : FLOAT8OID;

		if (attr->attisdropped || attr->atttypid != expected)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the xdr_rows result type must be of type %s",
							att + 1, format_type_be(expected))));
	}
}

/* Build the state of one call: keys, permutations, tables, text buffers */
static XdrState *
make_state(int64 total_rows, int64 users, int64 seed, int64 first_row)
{
	XdrState   *st = (XdrState *) palloc0(sizeof(XdrState));
	uint64		seed_key = mix64((uint64) seed ^ UINT64CONST(0x243f6a8885a308d3));
	uint64		user_range = (uint64) users;
	int			total_weight = 0;
	int			acc = 0;
	int			h;
	int			s;
	int			r_users = 0;
	int			r_extras = 0;
	double		x = 0.0;
	double		t = 0.0;

	st->total_rows = total_rows;
	st->users = users;
	st->first_row = first_row;
	st->row_key = seed_key;
	st->user_key = mix64(seed_key ^ UINT64CONST(0x13198a2e03707344));
	st->perm_a = coprime_multiplier((uint64) total_rows, stream_hash(seed_key, 1000));
	st->perm_b = stream_hash(seed_key, 1001) % (uint64) total_rows;
	/* number ranges: 2e8 MSISDNs and 2e9 IMSIs, widened for more users */
	st->msisdn_a = MSISDN_BLOCK_A *
		((user_range + (uint64) MSISDN_BLOCK_A * MSISDN_BLOCK_B - 1) /
		 ((uint64) MSISDN_BLOCK_A * MSISDN_BLOCK_B));
	st->imsi_a = IMSI_BLOCK_A *
		((user_range + (uint64) IMSI_BLOCK_A * IMSI_BLOCK_B - 1) /
		 ((uint64) IMSI_BLOCK_A * IMSI_BLOCK_B));
	st->msisdn_key = stream_hash(st->user_key, S_USER_MSISDN);
	st->imsi_key = stream_hash(st->user_key, S_USER_IMSI);
	st->start_julian = date2j(2019, 4, 1);

	/* cumulative curve of the real sessions-per-subscriber histogram */
	for (s = 0; s < (int) N_SESSION_CLASSES; s++)
	{
		r_users += real_sessions[s].users;
		r_extras += real_sessions[s].users * (real_sessions[s].sessions - 1);
	}
	for (s = 0; s < (int) N_SESSION_CLASSES; s++)
	{
		double		dx;
		double		dt;

		if (real_sessions[s].sessions < 2)
			continue;
		dx = (double) real_sessions[s].users * (real_sessions[s].sessions - 1) / r_extras;
		dt = (double) real_sessions[s].users / r_users;
		st->seg_x_start[st->nseg] = x;
		st->seg_t_start[st->nseg] = t;
		st->seg_slope[st->nseg] = dt / dx;
		x += dx;
		t += dt;
		st->seg_x_end[st->nseg] = x;
		st->nseg++;
	}

	/* weighted handset lookup table and the handset text values */
	for (s = 0; s < (int) N_HANDSETS; s++)
	{
		total_weight += handsets[s].weight;
		st->handset_manufacturer[s] = CStringGetTextDatum(handsets[s].manufacturer);
		st->handset_type[s] = CStringGetTextDatum(handsets[s].type);
	}
	s = 0;
	for (h = 0; h < HANDSET_LUT_SIZE; h++)
	{
		double		target = ((double) h + 0.5) * total_weight / HANDSET_LUT_SIZE;

		while (s < (int) N_HANDSETS - 1 && acc + handsets[s].weight <= target)
			acc += handsets[s++].weight;
		st->handset_lut[h] = (uint8) s;
	}

	st->start_text = (text *) palloc(VARHDRSZ + 32);
	st->end_text = (text *) palloc(VARHDRSZ + 32);
	st->location_text = (text *) palloc(VARHDRSZ + 8);
	return st;
}

/*
 * engage.xdr_rows(total_rows, users, seed, first_row, n): rows first_row ..
 * first_row + n - 1 of the data set (total_rows, users, seed), one per call.
 */
PG_FUNCTION_INFO_V1(engage_xdr_rows);
Datum
engage_xdr_rows(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	XdrState   *st;
	HeapTuple	tuple;

	if (SRF_IS_FIRSTCALL())
	{
		int64		total_rows = PG_GETARG_INT64(0);
		int64		users = PG_GETARG_INT64(1);
		int64		seed = PG_GETARG_INT64(2);
		int64		first_row = PG_GETARG_INT64(3);
		int64		n = PG_GETARG_INT64(4);
		MemoryContext oldcontext;
		TupleDesc	tupdesc;

		check_arguments(total_rows, users, first_row, n);

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("function returning record called in context that cannot accept type record")));
		check_result_type(tupdesc);
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		funcctx->max_calls = (uint64) n;
		funcctx->user_fctx = make_state(total_rows, users, seed, first_row);

		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();
	st = (XdrState *) funcctx->user_fctx;

	if (funcctx->call_cntr >= funcctx->max_calls)
		SRF_RETURN_DONE(funcctx);

	CHECK_FOR_INTERRUPTS();
	fill_row(st, st->first_row + (int64) funcctx->call_cntr);
	tuple = heap_form_tuple(funcctx->tuple_desc, st->values, st->nulls);
	SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(tuple));
}
