/*-------------------------------------------------------------------------
 *
 * svg_doc.c
 *	  The SVG document of every chart: status messages, the growing output
 *	  buffer and its writer (ecore_svg_emit), and the parts the charts
 *	  share: value checks, units, scales, the frame (svg element, title,
 *	  background), y axes, axis labels and category labels.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "svg_internal.h"

/* Static English message of a status code */
const char *
ecore_svg_strerror(int status)
{
	switch (status)
	{
		case ECORE_SVG_OK:
			return "success";
		case ECORE_SVG_EINVAL_ENV:
			return "invalid environment (no allocator)";
		case ECORE_SVG_EINVAL_ARG:
			return "invalid argument (NULL pointer)";
		case ECORE_SVG_EINVAL_N:
			return "number of bars, points or clusters out of range";
		case ECORE_SVG_EINVAL_M:
			return "number of metrics out of range";
		case ECORE_SVG_ENONFINITE:
			return "value is NaN or infinite";
		case ECORE_SVG_ERANGE:
			return "value too large in magnitude";
		case ECORE_SVG_ENEGATIVE:
			return "negative cluster size";
		case ECORE_SVG_ENOMEM:
			return "out of memory";
		case ECORE_SVG_EOVERFLOW:
			return "size overflow";
	}
	return "unknown status";
}

/* ---------------------------------------------------------------------
 * Output buffer
 * ---------------------------------------------------------------------
 */

/* Make room for extra more bytes (and a NUL) */
static int
buf_reserve(svgbuf *b, size_t extra)
{
	size_t		need,
				ncap;
	char	   *p;

	if (b->status != ECORE_SVG_OK)
		return 0;
	if (extra > SIZE_MAX - b->len - 1)
	{
		b->status = ECORE_SVG_EOVERFLOW;
		return 0;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 1;
	ncap = b->cap ? b->cap : 8192;
	while (ncap < need)
	{
		if (ncap > SIZE_MAX / 2)
		{
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	p = b->env->alloc(b->env->alloc_arg, ncap);
	if (p == NULL)
	{
		b->status = ECORE_SVG_ENOMEM;
		return 0;
	}
	if (b->len)
		memcpy(p, b->data, b->len);
	b->data = p;
	b->cap = ncap;
	return 1;
}

/* Append n raw bytes */
void
ecore_svg_buf_put(svgbuf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append escaped text, at most max_chars characters (0: all) */
void
ecore_svg_buf_text(svgbuf *b, const char *s, size_t max_chars, int flags)
{
	size_t		len,
				n;

	if (s == NULL)
		return;
	len = strlen(s);
	n = ecore_svg_escape_into(NULL, NULL, s, len, flags, max_chars);
	if (n == SIZE_MAX)
	{
		if (b->status == ECORE_SVG_OK)
			b->status = ECORE_SVG_EOVERFLOW;
		return;
	}
	if (!buf_reserve(b, n))
		return;
	ecore_svg_escape_into(NULL, b->data + b->len, s, len, flags, max_chars);
	b->len += n;
	b->data[b->len] = '\0';
}

/*
 * Append a formatted fragment.  Directives: %s trusted ASCII string, %d
 * int, %z size_t (as a 1-based number it is given as is), %f coordinate
 * (double), %t text from the data (const char *, escaped, whole),
 * %% percent.
 */
void
ecore_svg_emit(svgbuf *b, int flags, const char *fmt,...)
{
	va_list		ap;
	const char *p,
			   *start;
	char		tmp[64];
	size_t		n;

	va_start(ap, fmt);
	p = fmt;
	while (*p)
	{
		start = p;
		while (*p && *p != '%')
			p++;
		if (p > start)
			ecore_svg_buf_put(b, start, (size_t) (p - start));
		if (*p == '\0')
			break;
		p++;
		switch (*p)
		{
			case 's':
				{
					const char *s = va_arg(ap, const char *);

					ecore_svg_buf_put(b, s, strlen(s));
					break;
				}
			case 'd':
				n = (size_t) snprintf(tmp, sizeof(tmp), "%d", va_arg(ap, int));
				ecore_svg_buf_put(b, tmp, n);
				break;
			case 'z':
				n = (size_t) snprintf(tmp, sizeof(tmp), "%zu", va_arg(ap, size_t));
				ecore_svg_buf_put(b, tmp, n);
				break;
			case 'f':
				n = ecore_svg_format_coord(va_arg(ap, double), tmp, sizeof(tmp));
				ecore_svg_buf_put(b, tmp, n);
				break;
			case 't':
				ecore_svg_buf_text(b, va_arg(ap, const char *), 0, flags);
				break;
			case '%':
				ecore_svg_buf_put(b, "%", 1);
				break;
			default:
				/* unknown directive: a programming error, emit it raw */
				ecore_svg_buf_put(b, p - 1, 2);
				break;
		}
		if (*p)
			p++;
	}
	va_end(ap);
}

/* ---------------------------------------------------------------------
 * Chart helpers
 * ---------------------------------------------------------------------
 */

/* Unit handling: SI prefixes for "B" and no unit */
int
ecore_svg_unit_si(const char *unit)
{
	return unit == NULL || unit[0] == '\0' || strcmp(unit, "B") == 0;
}

/*
 * A formatted number with its unit, into out (cap >= 96): "1.2 GB",
 * "12.3 k", "345 B", "120,000 ms", "12.5%".  The unit is copied raw (cut
 * to ECORE_SVG_UNIT_CHARS characters on a sequence boundary); the caller
 * escapes the result.
 */
void
ecore_svg_with_unit(char *num, size_t cap, const char *unit)
{
	size_t		n = strlen(num),
				ulen,
				i = 0,
				chars = 0;
	int			prefixed;
	int32_t		cp;

	if (unit == NULL || unit[0] == '\0')
		return;
	prefixed = strchr(num, ' ') != NULL;	/* "1.2 G": an SI prefix */
	ulen = strlen(unit);
	while (i < ulen && chars < ECORE_SVG_UNIT_CHARS)
	{
		i += ecore_svg_utf8_next((const unsigned char *) unit + i, ulen - i, &cp);
		chars++;
	}
	ulen = i;
	if (!prefixed && strcmp(unit, "%") != 0 && n + 1 < cap)
		num[n++] = ' ';
	if (n + ulen >= cap)
		ulen = 0;
	memcpy(num + n, unit, ulen);
	num[n + ulen] = '\0';
}

/* Check one chart value: finite and not too large */
int
ecore_svg_check_value(ecore_env *env, double v, size_t row, int field)
{
	if (!isfinite(v))
	{
		env->error_row = row;
		env->error_col = (size_t) field;
		return ECORE_SVG_ENONFINITE;
	}
	if (fabs(v) > ECORE_SVG_MAX_ABS)
	{
		env->error_row = row;
		env->error_col = (size_t) field;
		return ECORE_SVG_ERANGE;
	}
	return ECORE_SVG_OK;
}

/* Map a value onto [p0, p1] through the tick range (clamped by fmt_coord) */
double
ecore_svg_scale_to(const ecore_svg_ticks *t, double v, double p0, double p1)
{
	double		frac = (v - t->first) / (t->last - t->first);

	if (!isfinite(frac))
		frac = 0;
	return p0 + frac * (p1 - p0);
}

/* Document start: svg element, title, description, background */
void
ecore_svg_doc_start(svgbuf *b, const ecore_svg_texts *txt, double w, double h,
					const char *fallback_title)
{
	w = ceil(w);
	h = ceil(h);
	ecore_svg_emit(b, 0, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%f\" height=\"%f\" "
				   "viewBox=\"0 0 %f %f\" font-family=\"" FONT "\" role=\"img\">\n<title>",
				   w, h, w, h);
	if (txt->title && txt->title[0])
		ecore_svg_buf_text(b, txt->title, ECORE_SVG_TITLE_CHARS, txt->flags);
	else
		ecore_svg_buf_put(b, fallback_title, strlen(fallback_title));
	ecore_svg_emit(b, 0, "</title>\n<rect x=\"0\" y=\"0\" width=\"%f\" height=\"%f\" fill=\"#ffffff\"/>\n",
				   w, h);
	if (txt->title && txt->title[0])
	{
		ecore_svg_emit(b, 0, "<text x=\"%f\" y=\"30\" text-anchor=\"middle\" font-size=\"%d\" "
					   "font-weight=\"bold\" fill=\"" COLOR_TEXT "\">", w / 2, FS_TITLE);
		ecore_svg_buf_text(b, txt->title, ECORE_SVG_TITLE_CHARS, txt->flags);
		ecore_svg_emit(b, 0, "</text>\n");
	}
}

/* Finish the document and hand it over */
int
ecore_svg_doc_end(svgbuf *b, char **out, size_t *out_len)
{
	ecore_svg_emit(b, 0, "</svg>\n");
	if (b->status != ECORE_SVG_OK)
		return b->status;
	*out = b->data;
	*out_len = b->len;
	return ECORE_SVG_OK;
}

/* Widest tick label of an axis, in pixels */
double
ecore_svg_ticks_width(const ecore_svg_ticks *t, int si, const char *unit)
{
	char		num[128];
	double		w = 0,
				tw;
	int			i;

	for (i = 0; i < t->count; i++)
	{
		ecore_svg_format_tick(t, i, si, num, sizeof(num));
		ecore_svg_with_unit(num, sizeof(num), unit);
		tw = ecore_svg_text_width(num, FS_TICK, 0);
		if (tw > w)
			w = tw;
	}
	return w;
}

/*
 * Horizontal grid lines and tick labels of a y axis over [top, bottom],
 * labels right-aligned at x0 - 6, grid to x1.
 */
void
ecore_svg_y_axis(svgbuf *b, int flags, const ecore_svg_ticks *t, int si,
				 const char *unit, double x0, double x1, double top, double bottom)
{
	char		num[128];
	double		y;
	int			i;

	for (i = 0; i < t->count; i++)
	{
		y = ecore_svg_scale_to(t, t->first + (double) i * t->step, bottom, top);
		ecore_svg_format_tick(t, i, si, num, sizeof(num));
		ecore_svg_with_unit(num, sizeof(num), unit);
		ecore_svg_emit(b, flags, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_GRID "\"/>\n",
					   x0, y, x1, y);
		ecore_svg_emit(b, flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"end\" font-size=\"%d\" "
					   "fill=\"" COLOR_TEXT "\">%t</text>\n", x0 - 6, y + 4, FS_TICK, num);
	}
}

/* Axis label of the y axis (rotated), centred on [top, bottom] */
void
ecore_svg_y_label(svgbuf *b, const ecore_svg_texts *txt, const char *text, double x,
				  double top, double bottom)
{
	double		cy = (top + bottom) / 2;

	if (text == NULL || text[0] == '\0')
		return;
	ecore_svg_emit(b, 0, "<text x=\"%f\" y=\"%f\" transform=\"rotate(-90 %f %f)\" text-anchor=\"middle\" "
				   "font-size=\"%d\" fill=\"" COLOR_TEXT "\">", x, cy, x, cy, FS_AXIS);
	ecore_svg_buf_text(b, text, ECORE_SVG_AXIS_CHARS, txt->flags);
	ecore_svg_emit(b, 0, "</text>\n");
}

/* Axis label of the x axis, centred at (cx, y) */
void
ecore_svg_x_label(svgbuf *b, const ecore_svg_texts *txt, double cx, double y)
{
	if (txt->x_label == NULL || txt->x_label[0] == '\0')
		return;
	ecore_svg_emit(b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
				   "fill=\"" COLOR_TEXT "\">", cx, y, FS_AXIS);
	ecore_svg_buf_text(b, txt->x_label, ECORE_SVG_AXIS_CHARS, txt->flags);
	ecore_svg_emit(b, 0, "</text>\n");
}

/* Axis lines: x axis at y = base, y axis at x = x0 */
void
ecore_svg_axis_lines(svgbuf *b, double x0, double x1, double top, double bottom,
					 double base)
{
	ecore_svg_emit(b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
				   x0, top, x0, bottom);
	ecore_svg_emit(b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
				   x0, base, x1, base);
}

/* Choose how to write n category labels in slots of width slot */
void
ecore_svg_cat_plan(cat_layout *c, size_t n, const char *const *labels, double slot)
{
	double		maxw = 0,
				w;
	size_t		i;

	c->rotated = 0;
	c->stride = 1;
	c->max_chars = ECORE_SVG_LABEL_CHARS;
	for (i = 0; i < n; i++)
	{
		w = ecore_svg_text_width(labels[i], FS_TICK, c->max_chars);
		if (w > maxw)
			maxw = w;
	}
	if (maxw <= slot - 6)
	{
		c->height = 22;
		return;
	}
	c->rotated = 1;
	c->max_chars = 24;
	if (maxw > ecore_svg_text_width("MMMMMMMMMMMMMMMMMMMMMMMM", FS_TICK, 0) * 0.7)
		maxw = ecore_svg_text_width("MMMMMMMMMMMMMMMMMMMMMMMM", FS_TICK, 0) * 0.7;
	/* parallel rotated labels need about 22 px between their anchors */
	c->stride = slot >= 22 ? 1 : (size_t) ceil(22.0 / slot);
	/* sin 40 = 0.643, cos 40 = 0.766 */
	c->height = 14 + maxw * 0.766 + FS_TICK * 0.643;
}

/* Write category label i centred at cx under the axis at y */
void
ecore_svg_cat_label(svgbuf *b, int flags, const cat_layout *c, size_t i,
					const char *label, double cx, double y)
{
	if (i % c->stride != 0)
		return;
	if (!c->rotated)
	{
		ecore_svg_emit(b, flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
					   "fill=\"" COLOR_TEXT "\">", cx, y + 16, FS_TICK);
	}
	else
	{
		ecore_svg_emit(b, flags, "<text x=\"%f\" y=\"%f\" transform=\"rotate(-40 %f %f)\" "
					   "text-anchor=\"end\" font-size=\"%d\" fill=\"" COLOR_TEXT "\">",
					   cx + 4, y + 14, cx + 4, y + 14, FS_TICK);
	}
	ecore_svg_buf_text(b, label, c->max_chars, flags);
	ecore_svg_emit(b, flags, "</text>\n");
}

/* Slot width of n categories: wide when few, at least 3 px */
double
ecore_svg_slot_width(size_t n, double wide, double target_w)
{
	double		s = target_w / (double) n;

	if (s > wide)
		s = wide;
	if (s * (double) n > PLOT_MAX_W)
		s = PLOT_MAX_W / (double) n;
	if (s < 3)
		s = 3;
	return s;
}
