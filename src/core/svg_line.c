/*-------------------------------------------------------------------------
 *
 * svg_line.c
 *	  Line chart with markers of the SVG core (the elbow curve), with an
 *	  optional marked x (the chosen k).  See svg.h for the contract.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "svg_internal.h"

/* Line chart with markers (see svg.h) */
int
ecore_svg_line_chart(ecore_env *env, const ecore_svg_texts *txt, size_t n,
					  const double *x, const double *y, const double *mark_x,
					  const char *mark_label, char **out, size_t *out_len)
{
	svgbuf		b = {0};
	ecore_svg_ticks tx,
				ty;
	int			rc,
				si,
				markers;
	size_t		i,
				hit = SIZE_MAX;
	double		xlo,
				xhi,
				ylo,
				yhi,
				left,
				right,
				top = 64,
				plot_w = 600,
				plot_h = 340,
				bottom,
				w,
				h,
				px,
				py;
	char		num[128],
				mlabel[160];

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (txt == NULL || out == NULL || out_len == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (n < 1 || n > ECORE_SVG_MAX_POINTS)
		return ECORE_SVG_EINVAL_N;
	if (x == NULL || y == NULL)
		return ECORE_SVG_EINVAL_ARG;
	xlo = xhi = 0;
	ylo = yhi = 0;
	for (i = 0; i < n; i++)
	{
		if ((rc = ecore_svg_check_value(env, x[i], i, ECORE_SVG_FIELD_X)) != ECORE_SVG_OK)
			return rc;
		if ((rc = ecore_svg_check_value(env, y[i], i, ECORE_SVG_FIELD_Y)) != ECORE_SVG_OK)
			return rc;
		if (i == 0 || x[i] < xlo)
			xlo = x[i];
		if (i == 0 || x[i] > xhi)
			xhi = x[i];
		if (i == 0 || y[i] < ylo)
			ylo = y[i];
		if (i == 0 || y[i] > yhi)
			yhi = y[i];
	}
	if (mark_x != NULL)
	{
		if ((rc = ecore_svg_check_value(env, *mark_x, 0, ECORE_SVG_FIELD_MARK)) != ECORE_SVG_OK)
			return rc;
		xlo = fmin(xlo, *mark_x);
		xhi = fmax(xhi, *mark_x);
		for (i = 0; i < n; i++)
			if (x[i] == *mark_x)
			{
				hit = i;
				break;
			}
	}
	si = ecore_svg_unit_si(txt->unit);
	if ((rc = ecore_svg_nice_ticks(xlo, xhi, 10, &tx)) != ECORE_SVG_OK)
		return rc;
	if ((rc = ecore_svg_nice_ticks(ylo, yhi, 6, &ty)) != ECORE_SVG_OK)
		return rc;
	left = 28 + ecore_svg_ticks_width(&ty, si, txt->unit) + 12;
	if (left < 70)
		left = 70;
	right = left + plot_w;
	bottom = top + plot_h;
	w = right + 40;
	h = bottom + 30 + (txt->x_label && txt->x_label[0] ? 26 : 0) + 8;
	markers = n <= 200;

	b.env = env;
	ecore_svg_doc_start(&b, txt, w, h, "Line chart");
	ecore_svg_y_axis(&b, txt->flags, &ty, si, txt->unit, left, right, top, bottom);
	/* x ticks: every label that leaves room for the next */
	{
		double		maxw = ecore_svg_ticks_width(&tx, 0, NULL);
		double		gap = plot_w / (double) (tx.count - 1);
		int			stride = (int) ceil((maxw + 8) / (gap > 0 ? gap : 1));

		if (stride < 1)
			stride = 1;
		for (i = 0; i < (size_t) tx.count; i++)
		{
			px = ecore_svg_scale_to(&tx, tx.first + (double) i * tx.step, left, right);
			ecore_svg_emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
						   px, bottom, px, bottom + 5);
			if (i % (size_t) stride != 0)
				continue;
			ecore_svg_format_tick(&tx, (int) i, 0, num, sizeof(num));
			ecore_svg_emit(&b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
						   "fill=\"" COLOR_TEXT "\">%t</text>\n", px, bottom + 20, FS_TICK, num);
		}
	}
	ecore_svg_axis_lines(&b, left, right, top, bottom, bottom);
	/* the mark's dashed line goes under the curve */
	if (mark_x != NULL)
	{
		double		mx = ecore_svg_scale_to(&tx, *mark_x, left, right);
		int			to_left = mx > left + plot_w * 0.7;

		if (mark_label == NULL || mark_label[0] == '\0')
		{
			ecore_svg_format_value(*mark_x, 0, num, 64);
			snprintf(mlabel, sizeof(mlabel), "x = %s", num);
			mark_label = mlabel;
		}
		ecore_svg_emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_MARK "\" "
					   "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n", mx, top, mx, bottom);
		ecore_svg_emit(&b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"%s\" font-size=\"%d\" font-weight=\"bold\" "
					   "fill=\"" COLOR_MARK "\">", to_left ? mx - 8 : mx + 8, top + 16,
					   to_left ? "end" : "start", FS_AXIS);
		ecore_svg_buf_text(&b, mark_label, ECORE_SVG_AXIS_CHARS, txt->flags);
		ecore_svg_emit(&b, 0, "</text>\n");
	}
	ecore_svg_emit(&b, 0, "<polyline fill=\"none\" stroke=\"" COLOR_BAR "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
	for (i = 0; i < n; i++)
	{
		px = ecore_svg_scale_to(&tx, x[i], left, right);
		py = ecore_svg_scale_to(&ty, y[i], bottom, top);
		ecore_svg_emit(&b, 0, i ? " %f,%f" : "%f,%f", px, py);
		if (env->check && i % 4096 == 4095)
			env->check(env->check_arg);
	}
	ecore_svg_emit(&b, 0, "\"/>\n");
	for (i = 0; i < n && markers; i++)
	{
		char		ynum[128];

		px = ecore_svg_scale_to(&tx, x[i], left, right);
		py = ecore_svg_scale_to(&ty, y[i], bottom, top);
		ecore_svg_format_value(x[i], 0, num, 64);
		ecore_svg_format_value(y[i], si, ynum, 64);
		ecore_svg_with_unit(ynum, sizeof(ynum), txt->unit);
		ecore_svg_emit(&b, txt->flags, "<circle cx=\"%f\" cy=\"%f\" r=\"4\" fill=\"#ffffff\" stroke=\"" COLOR_BAR "\" "
					   "stroke-width=\"2\"><title>%t: %t</title></circle>\n", px, py, num, ynum);
	}
	if (hit != SIZE_MAX)
	{
		px = ecore_svg_scale_to(&tx, x[hit], left, right);
		py = ecore_svg_scale_to(&ty, y[hit], bottom, top);
		ecore_svg_emit(&b, txt->flags, "<circle cx=\"%f\" cy=\"%f\" r=\"7\" fill=\"" COLOR_MARK "\" stroke=\"#ffffff\" "
					   "stroke-width=\"2\"><title>%t</title></circle>\n", px, py, mark_label);
	}
	ecore_svg_x_label(&b, txt, (left + right) / 2, bottom + 48);
	ecore_svg_y_label(&b, txt, txt->y_label, 18, top, bottom);
	return ecore_svg_doc_end(&b, out, out_len);
}
