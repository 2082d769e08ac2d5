/*-------------------------------------------------------------------------
 *
 * svg_cluster.c
 *	  Cluster chart of the SVG core: the users per cluster, then the
 *	  clusters' profiles as grouped bars, one colour per metric.  See
 *	  svg.h for the contract.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>

#include "svg_internal.h"

/* Colour of each metric */
static const char *const palette[ECORE_SVG_MAX_METRICS] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
	"#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b"
};

/* Cluster chart (see svg.h) */
int
ecore_svg_cluster_chart(ecore_env *env, const ecore_svg_texts *txt,
						 size_t k, const char *const *labels,
						 const int64_t *sizes, size_t m,
						 const char *const *metrics, const double *profile,
						 char **out, size_t *out_len)
{
	svgbuf		b = {0};
	ecore_svg_ticks ts,
				tp;
	cat_layout	cat;
	int			rc,
				ratio_mode = 1,
				show_sizes,
				show_ratio;
	size_t		i,
				j;
	double		total = 0,
				mean[ECORE_SVG_MAX_METRICS],
				maxabs[ECORE_SVG_MAX_METRICS],
				rmin = 0,
				rmax = 0,
				slot,
				bw,
				plot_w,
				left,
				right,
				top1,
				bottom1,
				top2,
				bottom2,
				legend_y,
				legend_h,
				w,
				h,
				x,
				y,
				base,
				lx,
				ly;
	char		num[128],
				share[64],
				raw[128];

	if (env == NULL || env->alloc == NULL)
		return ECORE_SVG_EINVAL_ENV;
	if (txt == NULL || out == NULL || out_len == NULL)
		return ECORE_SVG_EINVAL_ARG;
	if (k < 1 || k > ECORE_SVG_MAX_CLUSTERS)
		return ECORE_SVG_EINVAL_N;
	if (m < 1 || m > ECORE_SVG_MAX_METRICS)
		return ECORE_SVG_EINVAL_M;
	if (labels == NULL || sizes == NULL || metrics == NULL || profile == NULL)
		return ECORE_SVG_EINVAL_ARG;
	for (i = 0; i < k; i++)
	{
		if (labels[i] == NULL)
			return ECORE_SVG_EINVAL_ARG;
		if (sizes[i] < 0)
		{
			env->error_row = i;
			env->error_col = ECORE_SVG_FIELD_SIZES;
			return ECORE_SVG_ENEGATIVE;
		}
		total += (double) sizes[i];
		for (j = 0; j < m; j++)
			if ((rc = ecore_svg_check_value(env, profile[i * m + j], i,
											ECORE_SVG_FIELD_PROFILE + (int) j)) != ECORE_SVG_OK)
				return rc;
	}
	for (j = 0; j < m; j++)
		if (metrics[j] == NULL)
			return ECORE_SVG_EINVAL_ARG;

	/* overall means (weighted by the sizes) and largest magnitudes */
	for (j = 0; j < m; j++)
	{
		mean[j] = 0;
		maxabs[j] = 0;
		for (i = 0; i < k; i++)
		{
			double		v = profile[i * m + j];
			double		wgt = total > 0 ? (double) sizes[i] / total : 1.0 / (double) k;

			mean[j] += wgt * v;
			maxabs[j] = fmax(maxabs[j], fabs(v));
			if (v < 0)
				ratio_mode = 0;
		}
		if (!(mean[j] > 0))
			ratio_mode = 0;
	}
	for (i = 0; i < k && ratio_mode; i++)
		for (j = 0; j < m; j++)
		{
			double		r = profile[i * m + j] / mean[j];

			if (!isfinite(r) || r > 1e12)
				ratio_mode = 0;
		}
	for (i = 0; i < k; i++)
		for (j = 0; j < m; j++)
		{
			double		v = profile[i * m + j];
			double		r = ratio_mode ? v / mean[j] : (maxabs[j] > 0 ? v / maxabs[j] : 0);

			rmin = fmin(rmin, r);
			rmax = fmax(rmax, r);
		}
	if (ratio_mode)
		rmax = fmax(rmax, 1.0);
	{
		double		smax = 0;

		for (i = 0; i < k; i++)
			smax = fmax(smax, (double) sizes[i]);
		/* headroom above the tallest bar for its two value labels */
		if ((rc = ecore_svg_nice_ticks(0, smax * 1.2, 5, &ts)) != ECORE_SVG_OK)
			return rc;
	}
	if ((rc = ecore_svg_nice_ticks(rmin, rmax, 6, &tp)) != ECORE_SVG_OK)
		return rc;

	/* layout */
	bw = m <= 3 ? 28 : m <= 5 ? 22 : 14;
	slot = fmax((double) m * bw + 24, k <= 12 ? 100 : 0);
	if (slot * (double) k > PLOT_MAX_W)
	{
		slot = PLOT_MAX_W / (double) k;
		bw = (slot - 8) / (double) m;
	}
	plot_w = fmax(560, slot * (double) k);
	slot = plot_w / (double) k;
	if ((double) m * bw > slot - 12)
		bw = fmax(1, (slot - 12) / (double) m);
	ecore_svg_cat_plan(&cat, k, labels, slot);
	left = 28 + fmax(ecore_svg_ticks_width(&ts, 1, NULL), ecore_svg_ticks_width(&tp, 0, NULL)) + 12;
	if (left < 70)
		left = 70;
	right = left + plot_w;
	/* legend rows above the profile panel */
	legend_h = 20;
	lx = 0;
	for (j = 0; j < m; j++)
	{
		double		iw = 22 + ecore_svg_text_width(metrics[j], FS_TICK, 24) + 18;

		if (lx > 0 && lx + iw > plot_w)
		{
			legend_h += 20;
			lx = 0;
		}
		lx += iw;
	}
	top1 = 64 + 24;
	bottom1 = top1 + 200;
	top2 = bottom1 + cat.height + 30 + 24 + legend_h;
	bottom2 = top2 + 260;
	legend_y = top2 - legend_h - 4;
	w = right + 30;
	h = bottom2 + cat.height + 12;

	b.env = env;
	ecore_svg_doc_start(&b, txt, w, h, "Cluster chart");

	/* panel 1: users per cluster */
	ecore_svg_emit(&b, 0, "<text x=\"%f\" y=\"%f\" font-size=\"%d\" font-weight=\"bold\" fill=\"" COLOR_TEXT "\">"
				   "Users per cluster</text>\n", left, top1 - 14, FS_PANEL);
	ecore_svg_y_axis(&b, txt->flags, &ts, 1, NULL, left, right, top1, bottom1);
	{
		double		sbw = fmin(slot * 0.6, 90);
		double		maxlw = 0;

		for (i = 0; i < k; i++)
		{
			ecore_svg_format_fixed((double) sizes[i], 0, 1, num, sizeof(num));
			maxlw = fmax(maxlw, ecore_svg_text_width(num, FS_VALUE, 0));
		}
		show_sizes = maxlw <= slot - 4 ? 2 : ecore_svg_text_width("100.0%", FS_VALUE, 0) <= slot - 2 ? 1 : 0;
		for (i = 0; i < k; i++)
		{
			double		pct = total > 0 ? 100.0 * (double) sizes[i] / total : 0;

			x = left + slot * (double) i + (slot - sbw) / 2;
			y = ecore_svg_scale_to(&ts, (double) sizes[i], bottom1, top1);
			ecore_svg_format_fixed((double) sizes[i], 0, 1, num, sizeof(num));
			ecore_svg_format_fixed(pct, 1, 0, share, sizeof(share));
			ecore_svg_emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"%f\" height=\"%f\" fill=\"" COLOR_BAR "\">"
						   "<title>", x, y, sbw, bottom1 - y);
			ecore_svg_buf_text(&b, labels[i], ECORE_SVG_TITLE_CHARS, txt->flags);
			ecore_svg_emit(&b, txt->flags, ": %t users (%t%%)</title></rect>\n", num, share);
			if (show_sizes == 2)
				ecore_svg_emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
							   "fill=\"" COLOR_TEXT "\">%t</text>\n", x + sbw / 2, y - 19, FS_VALUE, num);
			if (show_sizes >= 1)
				ecore_svg_emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"%d\" "
							   "fill=\"#666666\">%t%%</text>\n", x + sbw / 2, y - 5, FS_VALUE, share);
			ecore_svg_cat_label(&b, txt->flags, &cat, i, labels[i], left + slot * ((double) i + 0.5), bottom1);
		}
	}
	ecore_svg_axis_lines(&b, left, right, top1, bottom1, bottom1);
	ecore_svg_y_label(&b, txt, "users", 18, top1, bottom1);

	/* panel 2: profile */
	ecore_svg_emit(&b, 0, "<text x=\"%f\" y=\"%f\" font-size=\"%d\" font-weight=\"bold\" fill=\"" COLOR_TEXT "\">%s</text>\n",
				   left, legend_y - 12, FS_PANEL,
				   ratio_mode ? "Profile: each metric relative to its overall mean (1 = mean of all users)"
				   : "Profile: each metric divided by its largest magnitude");
	/* legend */
	lx = left;
	ly = legend_y;
	for (j = 0; j < m; j++)
	{
		double		iw = 22 + ecore_svg_text_width(metrics[j], FS_TICK, 24) + 18;

		if (lx > left && lx + iw > right)
		{
			lx = left;
			ly += 20;
		}
		ecore_svg_emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"14\" height=\"14\" fill=\"%s\"/>\n",
					   lx, ly, palette[j]);
		ecore_svg_emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" font-size=\"%d\" fill=\"" COLOR_TEXT "\">",
					   lx + 20, ly + 12, FS_TICK);
		ecore_svg_buf_text(&b, metrics[j], 24, txt->flags);
		ecore_svg_emit(&b, 0, "</text>\n");
		lx += iw;
	}
	ecore_svg_y_axis(&b, txt->flags, &tp, 0, NULL, left, right, top2, bottom2);
	base = ecore_svg_scale_to(&tp, 0, bottom2, top2);
	show_ratio = bw >= 26;
	for (i = 0; i < k; i++)
	{
		double		gx = left + slot * (double) i + (slot - bw * (double) m) / 2;

		for (j = 0; j < m; j++)
		{
			double		v = profile[i * m + j];
			double		r = ratio_mode ? v / mean[j] : (maxabs[j] > 0 ? v / maxabs[j] : 0);

			x = gx + bw * (double) j;
			y = ecore_svg_scale_to(&tp, r, bottom2, top2);
			ecore_svg_format_value(v, 0, raw, 64);
			ecore_svg_format_value(r, 0, num, 64);
			ecore_svg_emit(&b, txt->flags, "<rect x=\"%f\" y=\"%f\" width=\"%f\" height=\"%f\" fill=\"%s\">"
						   "<title>", x + 0.5, fmin(y, base), fmax(bw - 1, 0.5), fabs(base - y), palette[j]);
			ecore_svg_buf_text(&b, labels[i], ECORE_SVG_TITLE_CHARS, txt->flags);
			ecore_svg_emit(&b, txt->flags, ", %t: %t (%t%t)</title></rect>\n", metrics[j], raw, num,
						   ratio_mode ? " \xC3\x97 mean" : " of the largest");
			if (show_ratio)
				ecore_svg_emit(&b, txt->flags, "<text x=\"%f\" y=\"%f\" text-anchor=\"middle\" font-size=\"10\" "
							   "fill=\"" COLOR_TEXT "\">%t</text>\n", x + bw / 2, r >= 0 ? y - 4 : y + 12, num);
		}
		ecore_svg_cat_label(&b, txt->flags, &cat, i, labels[i], left + slot * ((double) i + 0.5), bottom2);
	}
	if (ratio_mode)
	{
		y = ecore_svg_scale_to(&tp, 1.0, bottom2, top2);
		ecore_svg_emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_MARK "\" "
					   "stroke-dasharray=\"6 4\"/>\n", left, y, right, y);
		ecore_svg_emit(&b, 0, "<text x=\"%f\" y=\"%f\" text-anchor=\"end\" font-size=\"11\" fill=\"" COLOR_MARK "\">"
					   "<tspan paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"4\">overall mean</tspan></text>\n",
					   right - 4, y - 5);
	}
	ecore_svg_axis_lines(&b, left, right, top2, bottom2, base);
	if (base != bottom2)
		ecore_svg_emit(&b, 0, "<line x1=\"%f\" y1=\"%f\" x2=\"%f\" y2=\"%f\" stroke=\"" COLOR_AXIS "\"/>\n",
					   left, bottom2, right, bottom2);
	ecore_svg_y_label(&b, txt, ratio_mode ? "\xC3\x97 overall mean" : "share of the largest", 18, top2, bottom2);
	return ecore_svg_doc_end(&b, out, out_len);
}
