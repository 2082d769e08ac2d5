"""test/python/helpers.py: what the Python checks share.

A check counter that prints one line per check (check, and the decorator
checked for a check that is a function); the end of a suite (finish: a
crash counts as a failure, then the line "N passed, N failed" and the exit
status; finish_files for a suite that writes files, in a directory kept or
temporary); autocommit connections and queries; fresh test databases with
engage installed (also a UTF8 and LATIN1 pair for the encoding checks);
rendering a file to PNG with headless Chromium (Debian's chromium, flags
for a machine without network).

Copyright (c) 2026, engage developers
"""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

import psycopg2
from PIL import Image

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    """Record and print one check: "ok - NAME" or "not ok - NAME: DETAIL"
    (as the shell suites print theirs: scripts/lib.sh)."""
    if ok:
        results["passed"] += 1
        print(f"ok - {name}", flush=True)
    else:
        results["failed"] += 1
        print(f"not ok - {name}" + (f": {detail}" if detail else ""), flush=True)


def checked(name):
    """Decorator: a check that is a function.  It passes when the function
    returns (what it returns, a string, is printed after the name) and fails
    on any exception (printed, with its traceback)."""
    def wrap(fn):
        def run(*args):
            try:
                msg = fn(*args)
            except Exception as e:  # noqa: BLE001 - a failed check of any kind
                check(name, False, str(e))
                traceback.print_exc(file=sys.stdout)
                return
            check(f"{name} {msg}" if msg else name, True)
        return run
    return wrap


def finish(main):
    """Run a suite's main(): an exception that escapes it counts as a failed
    check.  Prints "N passed, N failed" and exits, non-zero on any failure
    (or when nothing passed)."""
    try:
        main()
    except Exception as e:  # noqa: BLE001 - a crash is a failure, with the summary line
        check("the suite runs to its end", False, f"{type(e).__name__}: {e}")
        traceback.print_exc(file=sys.stdout)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(0 if results["failed"] == 0 and results["passed"] > 0 else 1)


def connect(dbname=None, **settings):
    """A connection in autocommit mode to database dbname (by default the
    PG* environment's), with the settings given (SET name = value)."""
    conn = psycopg2.connect(dbname=dbname) if dbname else psycopg2.connect("")
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, value in settings.items():
            cur.execute(f"SET {name} = %s", (str(value),))
    return conn


def finish_files(checks, setup, teardown, variable, prefix):
    """finish() for a suite that writes files: setup(), checks(outdir) and
    teardown() (also after a failure), the files in the directory that
    environment variable `variable` names (kept) or in a temporary one
    (removed at the end)."""
    def main():
        with output_dir(variable, prefix) as outdir:
            try:
                setup()
                checks(outdir)
            finally:
                teardown()
    finish(main)


def query(conn, sql, args=None):
    """Every row of one query."""
    cur = conn.cursor()
    cur.execute(sql, args)
    return cur.fetchall()


def fresh_database(db):
    """Drop and create database db with engage installed; an autocommit connection to it."""
    admin = connect("postgres")
    cur = admin.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {db}")
    cur.execute(f"CREATE DATABASE {db}")
    admin.close()
    conn = connect(db)
    conn.cursor().execute("CREATE EXTENSION engage")
    return conn


def create_databases(utf8, latin1):
    """Create the two test databases (dropping leftovers) with engage installed."""
    conn = connect("postgres")
    cur = conn.cursor()
    for db, extra in ((utf8, ""), (latin1, " ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")):
        cur.execute(f"DROP DATABASE IF EXISTS {db}")
        cur.execute(f"CREATE DATABASE {db}{extra}")
    conn.close()
    for db in (utf8, latin1):
        c = connect(db)
        cur = c.cursor()
        cur.execute("SET client_min_messages = warning")
        cur.execute("CREATE EXTENSION engage")
        c.close()


def drop_databases(*dbs):
    """Drop the test databases."""
    conn = connect("postgres")
    cur = conn.cursor()
    for db in dbs:
        cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    conn.close()


@contextlib.contextmanager
def output_dir(variable, prefix):
    """The directory that environment variable `variable` names (kept, to
    look at what a suite wrote), or a temporary one (removed at the end)."""
    keep = os.environ.get(variable)
    path = keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(path, exist_ok=True)
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


def render(path, png_path, width, height):
    """Render an SVG or HTML file to a PNG with headless Chromium."""
    profile = tempfile.mkdtemp(prefix="engage-chromium-")
    try:
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
             f"--screenshot={png_path}", f"--window-size={width},{height}",
             "file://" + path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def rendered(name, path, png_path, width, height):
    """Render a file to a PNG (render) and open it as RGB; None, and a
    failed check, when Chromium wrote no PNG."""
    render(path, png_path, width, height)
    if not os.path.exists(png_path):
        check(f"{name}: chromium renders it", False, "no PNG")
        return None
    return Image.open(png_path).convert("RGB")
