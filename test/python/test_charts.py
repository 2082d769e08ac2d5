#!/usr/bin/python3
"""test/python/test_charts.py: engage's SVG charts, end to end.

Connects with the PG* environment (scripts/test.sh sets PGHOST, PGPORT and
PGUSER of its throwaway cluster), creates its own database
engage_charts_tests with CREATE EXTENSION engage, makes each chart with
realistic data and hostile labels, and checks that:

  - xmllint --noout accepts the SVG;
  - xml.etree parses it, its root is an <svg> of the SVG namespace with a
    viewBox, and no data text became markup (no <script>, no
    foreignObject, no on* attribute; the hostile labels are in text nodes);
  - headless Chromium renders it to a PNG that is not blank (decoded with
    Pillow: enough non-white pixels, and more than two colours).

Also checks xml_escape against Python's own escaping, and the charts in a
LATIN1 database (pure ASCII output).  Prints one line per check and ends
with "N passed, N failed"; exits non-zero on any failure.  The PNGs are
kept in $ENGAGE_CHART_DIR if set (to look at them), else in a temporary
directory that is removed.

Copyright (c) 2026, engage developers
"""

import os
import subprocess
import xml.etree.ElementTree as ET

from helpers import check, connect, create_databases, drop_databases, finish_files, rendered

DB = "engage_charts_tests"
DB_LATIN1 = "engage_charts_tests_latin1"
SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = [
    "<script>alert(1)</script>",
    "A & B \"quoted\" 'single'",
    "]]><svg onload=alert(1)>",
    "Ünïcødé 📱 € — a very long application label that must be cut somewhere",
]



def setup():
    """Create the test databases."""
    create_databases(DB, DB_LATIN1)


def teardown():
    """Drop the test databases."""
    drop_databases(DB, DB_LATIN1)


def check_chart(name, svg, outdir, hostile=()):
    """Every check of one SVG document."""
    path = os.path.join(outdir, name + ".svg")
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg)
    r = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
    check(f"{name}: xmllint accepts it", r.returncode == 0, r.stderr.strip()[:300])

    try:
        root = ET.fromstring(svg.encode("utf-8"))
    except ET.ParseError as e:
        check(f"{name}: xml.etree parses it", False, str(e))
        return
    check(f"{name}: root is an svg element with a viewBox",
          root.tag == SVG_NS + "svg" and root.get("viewBox", "").startswith("0 0 "))
    tags = {el.tag.replace(SVG_NS, "") for el in root.iter()}
    check(f"{name}: only chart elements (no script, foreignObject, ...)",
          tags <= {"svg", "title", "rect", "text", "tspan", "line", "polyline", "circle"},
          str(sorted(tags)))
    bad_attrs = [a for el in root.iter() for a in el.attrib if a.lower().startswith("on")]
    check(f"{name}: no event attribute", not bad_attrs, str(bad_attrs))
    texts = " ".join("".join(el.itertext()) for el in root.iter() if el.tag in (SVG_NS + "text", SVG_NS + "title"))
    for h in hostile:
        check(f"{name}: hostile text {h[:20]!r} is in a text node", h[:20] in texts)

    width = int(float(root.get("width")))
    height = int(float(root.get("height")))
    img = rendered(name, path, os.path.join(outdir, name + ".png"), width, height)
    if img is None:
        return
    pixels = list(img.getdata())
    nonwhite = sum(1 for p in pixels if p != (255, 255, 255))
    colours = len(set(pixels[:: max(1, len(pixels) // 200000)]))
    check(f"{name}: rendered PNG {img.size[0]}x{img.size[1]} is not blank "
          f"({100.0 * nonwhite / len(pixels):.1f}% non-white, {colours} colours)",
          nonwhite > 0.01 * len(pixels) and colours > 2)


def checks(outdir):
    """Every check (the databases set up), the files in outdir."""
    conn = connect(DB)
    cur = conn.cursor()
    try:
        # xml_escape against Python's escaping of the five characters
        for s in HOSTILE + ["", "plain"]:
            cur.execute("SELECT engage.xml_escape(%s)", (s,))
            want = (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    .replace('"', "&quot;").replace("'", "&#39;"))
            got = cur.fetchone()[0]
            check(f"xml_escape({s[:20]!r})", got == want, f"{got!r} != {want!r}")

        # bar chart: the top 3 applications by total traffic (TellCo-like figures)
        cur.execute("""SELECT engage.svg_bar_chart(ARRAY['Gaming', 'Other', 'Youtube'],
                       ARRAY[64.3e12, 64.2e12, 3.4e12],
                       'Top 3 applications by total traffic', 'application', 'total traffic (DL + UL)', 'B')""")
        check_chart("bar_top3", cur.fetchone()[0], outdir)
        cur.execute("SELECT engage.svg_bar_chart(%s, %s, %s, %s, %s, %s)",
                    (HOSTILE, [1.5e9, 345e6, 12.3e3, 7], HOSTILE[0], HOSTILE[1], HOSTILE[2], "B"))
        check_chart("bar_hostile", cur.fetchone()[0], outdir, HOSTILE[:3])
        cur.execute("""SELECT engage.svg_bar_chart(array_agg('user ' || i ORDER BY i),
                       array_agg(((i * 7919) % 1000 - 300)::float8 ORDER BY i), 'Many bars, some negative',
                       'user', 'sessions', NULL) FROM generate_series(1, 200) i""")
        check_chart("bar_many", cur.fetchone()[0], outdir)

        # line chart: the elbow curve, k = 3 marked
        cur.execute("""SELECT engage.svg_line_chart(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                       ARRAY[320567, 181243, 121876, 104311, 91204, 82012, 75210, 69873, 65002, 61234],
                       'Elbow method: K-means inertia by k', 'k (clusters)', 'inertia',
                       3, 'elbow: k = 3')""")
        check_chart("line_elbow", cur.fetchone()[0], outdir)
        cur.execute("SELECT engage.svg_line_chart(ARRAY[1, 2, 3], ARRAY[1e-9, 3e-9, 2e-9], %s, %s, %s, 2, %s)",
                    (HOSTILE[0], HOSTILE[1], HOSTILE[3], HOSTILE[2]))
        check_chart("line_hostile", cur.fetchone()[0], outdir, HOSTILE[:2])

        # cluster chart: three engagement clusters
        cur.execute("""SELECT engage.svg_cluster_chart(
                       ARRAY['1 low engagement', '2 medium engagement', '3 high engagement'],
                       ARRAY[64245, 35311, 7300]::bigint[],
                       ARRAY['sessions', 'duration (ms)', 'traffic (bytes)'],
                       ARRAY[[1.0, 106722, 5.9e8], [2.2, 238654, 1.3e9], [4.5, 681036, 3.1e9]],
                       'User engagement clusters (k = 3)')""")
        check_chart("cluster_engagement", cur.fetchone()[0], outdir)
        cur.execute("SELECT engage.svg_cluster_chart(%s, ARRAY[5, 0, 12, 3]::bigint[], %s, "
                    "ARRAY[[1, -2], [0, 0], [3, 4], [-5, 6]]::float8[], %s)",
                    (HOSTILE, HOSTILE[:2], HOSTILE[2]))
        check_chart("cluster_hostile", cur.fetchone()[0], outdir, HOSTILE[:2])
    finally:
        conn.close()

    # a LATIN1 database: texts converted, output pure ASCII
    conn = connect(DB_LATIN1)
    cur = conn.cursor()
    try:
        cur.execute("SELECT engage.svg_bar_chart(ARRAY['café', 'naïve'], ARRAY[1, 2], 'Déjà vu', NULL, NULL, '°')")
        svg = cur.fetchone()[0]
        check("latin1: chart output is ASCII", all(ord(c) < 128 for c in svg))
        check("latin1: non-ASCII as character references", "caf&#xE9;" in svg and "D&#xE9;j&#xE0; vu" in svg)
        check_chart("latin1_bar", svg, outdir)
        cur.execute("SELECT engage.xml_escape('é<')")
        check("latin1: xml_escape", cur.fetchone()[0] == "&#xE9;&lt;")
    finally:
        conn.close()


if __name__ == "__main__":
    finish_files(checks, setup, teardown, "ENGAGE_CHART_DIR", "engage-charts-")
