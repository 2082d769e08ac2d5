"""test/python/helpers.py: what the Python checks share.

A check counter that prints one line per check, autocommit connections,
fresh test databases with engage installed (also a UTF8 and LATIN1 pair for
the encoding checks) and rendering
a file to PNG with headless Chromium (Debian's chromium, flags for a
machine without network).

Copyright (c) 2026, engage developers
"""
import shutil
import subprocess
import tempfile

import psycopg2

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    """Record and print one check."""
    if ok:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name} {detail}")


def connect(dbname):
    """A connection in autocommit mode."""
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


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
