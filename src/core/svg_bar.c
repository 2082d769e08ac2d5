/*-------------------------------------------------------------------------
 *
 * svg_bar.c
 *	  Bar chart of the SVG core: labelled values, negative ones below a
 *	  zero line, each with its value above it when there is room.  See
 *	  svg.h for the contract.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "svg_internal.h"

/* Bar chart (see svg.h) */
int
ecore_svg_bar_chart(ecore_env *env, const ecore_svg_texts *txt, size_t n,
					 const char *const *labels, const double *values,
					 char **out, size_t *out_len)
{
	svgbuf		b = {0};
	ecore_svg_ticks t;
	cat_layout	cat;
	int			rc,
				si,
				show_values = 1;
	size_t		i;
	double		lo = 0,
				hi = 0,
				slot,
				plot_w,
				left,
				right,
				top = 64,
				plot_h = 320,
				bottom,
				base,
				w,
				h,
				bw,
				x,
				y,
				maxvw = 0;
	char		num[128];

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (txt == NULL || out == NULL || out_len == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (n < 1 || n > ECORE_SVG_MAX_BARS)
		return ECORE_SVG_EINVAL_N;
	if (labels == NULL || values == NULL)
		return ECORE_SVG_EINVAL_ARG;
	for (i = 0; i < n; i++)
	{
		if ((rc = ecore_svg_check_value(env, values[i], i, ECORE_SVG_FIELD_VALUES)) != ECORE_SVG_OK)
			return rc;
		if (values[i] < lo)
			lo = values[i];
		if (values[i] > hi)
			hi = values[i];
	}
	si = ecore_svg_unit_si(txt->unit);
	rc = ecore_svg_nice_ticks(lo, hi, 6, &t);
	if (rc != ECORE_SVG_OK)
		return rc;

	slot = ecore_svg_slot_width(n, 96, 640);
	plot_w = fmax(480, slot * (double) n);
	slot = plot_w / (double) n;
	bw = slot * 0.68;
	for (i = 0; i < n; i++)
	{
		ecore_svg_format_value(values[i], si, num, 64);
		ecore_svg_with_unit(num, sizeof(num), txt->unit);
		if (ecore_svg_text_width(num, FS_VALUE, 0) > maxvw)
			maxvw = ecore_svg_text_width(num, FS_VALUE, 0);
		if (labels[i] == NULL)
			return ECORE_SVG_EINVAL_ARG;
	}
	if (maxvw > slot - 2)
		show_values = 0;
	ecore_svg_cat_plan(&cat, n, labels, slot);
	left = 28 + ecore_svg_ticks_width(&t, si, txt->unit) + 12;
	if (left < 70)
		left = 70;
	right = left + plot_w;
	bottom = top + plot_h;
	w = right + 30;
	h = bottom + cat.height + (txt->x_label && txt->x_label[0] ? 30 : 8) + 8;
	base = ecore_svg_scale_to(&t, 0, bottom, top);

	b.env = env;
	ecore_svg_doc_start(&b, txt, w, h, "Bar chart");
	ecore_svg_y_axis(&b, txt->flags, &t, si, txt->unit, left, right, top, bottom);
	for (i = 0; i < n; i++)
	{
		double		v = values[i];

		x = left + slot * (double) i + (slot - bw) / 2;
		y = ecore_svg_scale_to(&t, v, bottom, top);
		ecore_svg_format_value(v, si, num, 64);
		ecore_svg_with_unit(num, sizeof(num), txt->unit);
		ecore_svg_emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"%f\" height=\"%f\" fill=\"" COLOR_BAR "\">"
					   "<title>", x, fmin(y, base), bw, fabs(base - y));
		ecore_svg_buf_text(&b, labels[i], ECORE_SVG_TITLE_CHARS, txt->flags);
		ecore_svg_emit(&b, txt->flags, ": %t</title></rect>\n", num);
		if (show_values)
			ecore_svg_emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
						   "fill=\"" COLOR_TEXT "\">%t</text>\n",
						   x + bw / 2, v >= 0 ? y - 5 : y + 14, FS_VALUE, num);
		ecore_svg_cat_label(&b, txt->flags, &cat, i, labels[i], x + bw / 2, bottom);
	}
	ecore_svg_axis_lines(&b, left, right, top, bottom, base);
	if (base != bottom)
		ecore_svg_emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
					   left, bottom, right, bottom);
	ecore_svg_x_label(&b, txt, (left + right) / 2, bottom + cat.height + 22);
	ecore_svg_y_label(&b, txt, txt->y_label, 18, top, bottom);
	return ecore_svg_doc_end(&b, out, out_len);
}
