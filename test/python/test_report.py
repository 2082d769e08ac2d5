#!/usr/bin/python3
"""test/python/test_report.py: engage.report_html, end to end.

Connects with the PG* environment (scripts/test.sh sets PGHOST, PGPORT and
PGUSER of its throwaway cluster), creates its own database
engage_report_tests with CREATE EXTENSION engage and a generated xDR table,
runs the analysis (once as it is, once with hostile application names),
writes each report to a file as the demo does (psql -XAt) and checks that:

  - it is one HTML5 document: <!DOCTYPE html>, html / head / body, a title,
    every element closed in order (Python's html.parser);
  - xmllint --html accepts it: no parser errors other than the HTML5 and
    SVG tags that libxml2's HTML 4 parser does not know;
  - no data text became markup: no <script>, no event attribute, no src or
    href (nothing external); the hostile names are text nodes;
  - it holds its inline SVG charts (clusters, applications, elbow, the
    hours of activity of each cluster and, for a second run, the migration
    matrix) and the top users of the views;
  - headless Chromium renders it to a PNG that is not blank and shows the
    charts' bars (decoded with Pillow).

Also checks that in a LATIN1 database the report is pure ASCII.  Prints one
line per check and ends with "N passed, N failed"; exits non-zero on any
failure.  The files are kept in $ENGAGE_REPORT_DIR if set, else in a
temporary directory that is removed.

Copyright (c) 2026, engage developers
"""

import os
import re
import subprocess
from html.parser import HTMLParser

import psycopg2
from helpers import check, connect, create_databases, drop_databases, finish_files, rendered

DB = "engage_report_tests"
DB_LATIN1 = "engage_report_tests_latin1"
HOSTILE_APPS = {
    "<script>alert(1)</script>": ["Gaming DL (Bytes)", "Gaming UL (Bytes)"],
    "A & B \"quoted\" 'single' <b>": ["Youtube DL (Bytes)", "Youtube UL (Bytes)"],
    "Ünïcødé 📱 €": ["Netflix DL (Bytes)", "Netflix UL (Bytes)"],
}
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "wbr", "source", "area", "base", "embed", "track"}
# libxml2's HTML parser is HTML 4: it reports these as "Tag ... invalid"
UNKNOWN_TO_LIBXML2 = {"main", "header", "footer", "section", "figure", "svg", "rect", "text", "tspan",
                      "line", "polyline", "circle", "g", "path", "title"}



def setup():
    """Create the test databases with the extension and data."""
    create_databases(DB, DB_LATIN1)
    for db, rows in ((DB, 20000), (DB_LATIN1, 3000)):
        c = connect(db)
        c.cursor().execute("SELECT engage.generate_xdr('public.xdr', %s, seed => 5)", (rows,))
        c.close()


def teardown():
    """Drop the test databases."""
    drop_databases(DB, DB_LATIN1)


def psql_report(dbname, run_id, path):
    """Write the report as the demo does: psql -XAt, raw text."""
    with open(path, "wb") as f:
        r = subprocess.run(["psql", "-XAt", "-v", "ON_ERROR_STOP=1", "-d", dbname,
                            "-c", f"SELECT engage.report_html({run_id})"],
                           stdout=f, stderr=subprocess.PIPE, timeout=300, check=False)
    return r.returncode, r.stderr.decode("utf-8", "replace")


class Page(HTMLParser):
    """Collects what the checks need and checks that elements nest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.doctype = None
        self.tags = []
        self.attrs = []
        self.stack = []
        self.errors = []
        self.text = []
        self.title = ""
        self.in_title = False

    def handle_decl(self, decl):
        self.doctype = decl

    def start(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, a, v) for a, v in attrs)

    def handle_starttag(self, tag, attrs):
        self.start(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)
        self.in_title = tag == "title" and self.stack[:3] == ["html", "head", "title"]

    def handle_startendtag(self, tag, attrs):
        self.start(tag, attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()
        self.in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self.in_title:
            self.title += data


def check_report(name, html, path, outdir, hostile=(), svgs=3, top=()):
    """Every check of one report."""
    check(f"{name}: starts with <!DOCTYPE html>", html.startswith("<!DOCTYPE html>\n"), html[:40])

    p = Page()
    p.feed(html)
    p.close()
    check(f"{name}: html.parser: doctype html", (p.doctype or "").lower() == "doctype html", str(p.doctype))
    check(f"{name}: html.parser: html, head, title, style, body, main",
          all(t in p.tags for t in ("html", "head", "title", "style", "body", "main")), str(sorted(set(p.tags))))
    check(f"{name}: html.parser: every element closed in order", not p.errors and not p.stack,
          str(p.errors[:5] + p.stack[:5]))
    check(f"{name}: no script element", "script" not in p.tags and "<script" not in html.lower())
    bad = [(t, a) for t, a, _ in p.attrs if a.lower().startswith("on") or a.lower() in ("src", "href", "srcset")]
    check(f"{name}: no event attribute, no src or href", not bad, str(bad[:5]))
    check(f"{name}: nothing external (no iframe, img, link, object, embed, foreignObject)",
          not set(p.tags) & {"iframe", "img", "link", "object", "embed", "foreignobject", "use", "image"},
          str(sorted(set(p.tags))))
    check(f"{name}: {svgs} inline svg charts", p.tags.count("svg") == svgs, str(p.tags.count("svg")))
    text = "".join(p.text)
    for h in hostile:
        check(f"{name}: hostile text {h[:20]!r} is a text node", h in text)
    if top:
        missing = [m for m in top if m not in text]
        check(f"{name}: the {len(top)} top users of the views are in the report", not missing, str(missing[:5]))

    r = subprocess.run(["xmllint", "--html", "--noout", path], capture_output=True)
    stderr = r.stderr.decode("utf-8", "replace")  # its excerpts may cut a character
    errors = [ln for ln in stderr.splitlines() if "parser error" in ln or "parser warning" in ln]
    unexpected = [ln for ln in errors
                  if not (m := re.search(r"Tag (\w+) invalid", ln)) or m.group(1).lower() not in UNKNOWN_TO_LIBXML2]
    check(f"{name}: xmllint --html parses it (only HTML5/SVG tags unknown to it: {len(errors)})",
          r.returncode == 0 and not unexpected, (stderr if r.returncode else "\n".join(unexpected))[:500])

    img = rendered(name, path, os.path.join(outdir, name + ".png"), 1280, 4000)
    if img is None:
        return
    pixels = list(img.getdata())
    background = max(set(pixels[::97]), key=pixels[::97].count)
    other = sum(1 for px in pixels if px != background)
    colours = len(set(pixels[:: max(1, len(pixels) // 200000)]))
    bars = sum(1 for px in pixels if px == (0x4e, 0x79, 0xa7))
    check(f"{name}: rendered PNG {img.size[0]}x{img.size[1]} is not blank "
          f"({100.0 * other / len(pixels):.1f}% not background, {colours} colours)",
          other > 0.2 * len(pixels) and colours > 10)
    check(f"{name}: the charts' bars are drawn ({bars} bar pixels)", bars > 5000)


def checks(outdir):
    """Every check (the databases set up), the files in outdir."""
    conn = connect(DB)
    cur = conn.cursor()
    cur.execute("SELECT engage.run_analysis('public.xdr')")
    run1 = cur.fetchone()[0]
    check("run_analysis succeeds", run1 is not None)
    cur.execute("SELECT DISTINCT msisdn FROM engage.top_users ORDER BY 1")
    top = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT DISTINCT msisdn FROM engage.top_users_per_app ORDER BY 1")
    top_apps = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT engage.report_html()")
    html1 = cur.fetchone()[0]

    path = os.path.join(outdir, "report.html")
    rc, err = psql_report(DB, "NULL", path)
    with open(path, encoding="utf-8") as f:
        written = f.read()
    check("psql -XAt writes the raw report (as the demo does)", rc == 0 and written == html1 + "\n", err[:300])
    check_report("report", written, path, outdir, svgs=6, top=sorted(set(top + top_apps)))
    for s in ("Top 10 users", "Engagement clusters", "Applications", "Top 3 applications",
              "Application totals", "Top 10 users of each application", "Elbow method",
              "Hours of activity", "Segments over time"):
        check(f"report: section {s!r}", f">{s}</h" in html1)

    cur.execute("SELECT engage.run_analysis('public.xdr', k_max => 0, applications => %s::jsonb)",
                (__import__("json").dumps(HOSTILE_APPS),))
    run2 = cur.fetchone()[0]
    check("run_analysis with hostile application names succeeds", run2 is not None)
    path2 = os.path.join(outdir, "report_hostile.html")
    rc, err = psql_report(DB, run2, path2)
    with open(path2, encoding="utf-8") as f:
        html2 = f.read()
    check("psql writes the hostile report", rc == 0, err[:300])
    check_report("report_hostile", html2, path2, outdir, hostile=list(HOSTILE_APPS), svgs=6)
    check("report_hostile: the migration matrix of the previous run and this one, and the movers",
          "Users by cluster: run %s (rows) to run %s (columns)" % (run1, run2) in html2
          and ">From the most to the least engaged segment</h3>" in html2)
    check("report_hostile: the names are escaped",
          "&lt;script&gt;alert(1)&lt;/script&gt;" in html2
          and "A &amp; B &quot;quoted&quot; &#39;single&#39; &lt;b&gt;" in html2)

    cur.execute(f"SELECT engage.report_html({run1})")
    check("the older run's report is unchanged by a later run", cur.fetchone()[0] == html1)
    try:
        cur.execute("SELECT engage.report_html(123456)")
        check("an unknown run id is an error", False, "no error")
    except psycopg2.Error as e:
        check("an unknown run id is an error (22023, with a hint)",
              e.pgcode == "22023" and "does not exist" in e.pgerror and e.diag.message_hint is not None,
              str(e.pgcode) + " " + str(e.pgerror))
    conn.close()

    c = connect(DB_LATIN1)
    cur = c.cursor()
    cur.execute("SELECT engage.run_analysis('public.xdr', k_max => 3, applications => %s::jsonb)",
                ('{"Caf\u00e9 & <T\u00e9l\u00e9>": ["Gaming DL (Bytes)", "Gaming UL (Bytes)"]}',))
    check("LATIN1: run_analysis succeeds", cur.fetchone()[0] is not None)
    cur.execute("SELECT engage.report_html()")
    h = cur.fetchone()[0]
    check("LATIN1: the report is pure ASCII", h.isascii(), repr([ch for ch in h if not ch.isascii()][:5]))
    check("LATIN1: the application name is escaped as character references",
          "Caf&#xE9; &amp; &lt;T&#xE9;l&#xE9;&gt;" in h or "Caf&#xe9; &amp; &lt;T&#xe9;l&#xe9;&gt;" in h,
          re.findall(r"Caf[^<]{0,40}", h)[:2])
    c.close()


if __name__ == "__main__":
    finish_files(checks, setup, teardown, "ENGAGE_REPORT_DIR", "engage-report-")
