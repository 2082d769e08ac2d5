/*-------------------------------------------------------------------------
 *
 * svg_internal.h
 *	  What the files of the SVG core share and svg.h does not publish: the
 *	  chart style (font, colours, font sizes), the growing document buffer
 *	  and its writer, the text and number helpers they use, and the layout
 *	  pieces every chart has (frame, axes, category labels).
 *
 * The SVG core is split by concern:
 *	  svg_text.c	UTF-8 decoding, XML escaping, truncation, text widths
 *	  svg_format.c	numbers, nice ticks and their labels, coordinates
 *	  svg_doc.c		status messages, the document buffer and writer, the
 *					parts every chart shares
 *	  svg_bar.c, svg_line.c, svg_cluster.c: one chart each
 *
 * Only those files include this header; the API is svg.h.  Its functions
 * are global symbols of the engage library all the same, so they carry the
 * core's prefix (ecore_svg_).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_SVG_INTERNAL_H
#define ECORE_SVG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "svg.h"

/* Fonts and colours */
#define FONT "sans-serif"
#define COLOR_TEXT "#222222"
#define COLOR_AXIS "#444444"
#define COLOR_GRID "#e3e3e3"
#define COLOR_BAR "#4e79a7"
#define COLOR_MARK "#e15759"
#define FS_TITLE 18
#define FS_AXIS 13
#define FS_TICK 12
#define FS_VALUE 11
#define FS_PANEL 14

/* Widest plot area in pixels */
#define PLOT_MAX_W 6000.0

/* Growing output buffer: the first failure sticks in status */
typedef struct svgbuf
{
	ecore_env  *env;
	char	   *data;
	size_t		len;
	size_t		cap;
	int			status;
} svgbuf;

/* Layout of category labels under a row of slots */
typedef struct cat_layout
{
	int			rotated;		/* 0: horizontal, 1: rotated by -40 deg */
	size_t		stride;			/* label every stride-th category */
	size_t		max_chars;		/* characters kept */
	double		height;			/* vertical space they take */
} cat_layout;

/* ---------------------------------------------------------------------
 * Text (svg_text.c)
 * ---------------------------------------------------------------------
 */

/* Decode one UTF-8 sequence: its length, the code point or -1 in *cp */
extern size_t ecore_svg_utf8_next(const unsigned char *s, size_t len,
								  int32_t *cp);

/* Escape (and cut to max_chars) into dst or just measure (dst NULL) */
extern size_t ecore_svg_escape_into(ecore_env *env, char *dst,
									const char *src, size_t len, int flags,
									size_t max_chars);

/* Estimated width in pixels of a text of font size fs */
extern double ecore_svg_text_width(const char *s, double fs,
								   size_t max_chars);

/* ---------------------------------------------------------------------
 * Numbers (svg_format.c)
 * ---------------------------------------------------------------------
 */

/* A coordinate: one decimal at most, clamped */
extern size_t ecore_svg_format_coord(double v, char *out, size_t cap);

/* ---------------------------------------------------------------------
 * Document and shared chart parts (svg_doc.c)
 * ---------------------------------------------------------------------
 */

/* Append raw bytes, escaped text, or a formatted fragment */
extern void ecore_svg_buf_put(svgbuf *b, const char *s, size_t n);
extern void ecore_svg_buf_text(svgbuf *b, const char *s, size_t max_chars,
							   int flags);
extern void ecore_svg_emit(svgbuf *b, int flags, const char *fmt,...);

/* Values, units and scales */
extern int	ecore_svg_check_value(ecore_env *env, double v, size_t row,
								  int field);
extern int	ecore_svg_unit_si(const char *unit);
extern void ecore_svg_with_unit(char *num, size_t cap, const char *unit);
extern double ecore_svg_scale_to(const ecore_svg_ticks *t, double v,
								 double p0, double p1);

/* Start and end of a document */
extern void ecore_svg_doc_start(svgbuf *b, const ecore_svg_texts *txt,
								double w, double h,
								const char *fallback_title);
extern int	ecore_svg_doc_end(svgbuf *b, char **out, size_t *out_len);

/* Axes and their labels */
extern double ecore_svg_ticks_width(const ecore_svg_ticks *t, int si,
									const char *unit);
extern void ecore_svg_y_axis(svgbuf *b, int flags, const ecore_svg_ticks *t,
							 int si, const char *unit, double x0, double x1,
							 double top, double bottom);
extern void ecore_svg_y_label(svgbuf *b, const ecore_svg_texts *txt,
							  const char *text, double x, double top,
							  double bottom);
extern void ecore_svg_x_label(svgbuf *b, const ecore_svg_texts *txt,
							  double cx, double y);
extern void ecore_svg_axis_lines(svgbuf *b, double x0, double x1, double top,
								 double bottom, double base);

/* Category slots and labels */
extern void ecore_svg_cat_plan(cat_layout *c, size_t n,
							   const char *const *labels, double slot);
extern void ecore_svg_cat_label(svgbuf *b, int flags, const cat_layout *c,
								size_t i, const char *label, double cx,
								double y);
extern double ecore_svg_slot_width(size_t n, double wide, double target_w);

#endif							/* ECORE_SVG_INTERNAL_H */
