#!/usr/bin/env python3
"""What an integer grant key in the mail tables would save, measured before building it.

The mail tables (`messages`, `message_folders`, `message_addresses`, `object_ids`, `thread_latest`)
key every row and index entry by the grant's 36-character ID. This script takes their schema
(tables, indexes, triggers) from a region store, builds it twice in memory, once as it is and once
with `grant_id INTEGER`, and times on both, alternating:

- a send's statements in the grant's store, as `RegionStore.save` and `saveObjectID` run them (the
  message with its triggers, its folder row, the message's and the thread's object IDs), one
  transaction per send;
- the bulk path's grant-keyed steps (`nylas-sim-bench messages-load`), set-based, triggers set aside.

    nylas-sim serve --data-dir /tmp/d    # then Ctrl-C: /tmp/d/us.sqlite holds the schema
    python3 Benchmarks/integer-grant-keys.py /tmp/d/us.sqlite [--sends 15000] [--bulk 300000] [--rounds 3]

The Python module links the system SQLite, as the simulator does; the loop's own cost is printed
beside the figures (the same number of calls on `SELECT 1`).
"""
import argparse, json, sqlite3, time, uuid

TABLES = ("messages", "message_folders", "message_addresses", "object_ids", "thread_latest")

def schema(path):
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN (%s) "
        "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END" % ",".join("'%s'" % t for t in TABLES)).fetchall()
    return ";\n".join(r[0] for r in rows) + ";\n"

def store(sql, integer):
    if integer:
        sql = sql.replace("grant_id TEXT NOT NULL", "grant_id INTEGER NOT NULL")
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript("PRAGMA secure_delete=OFF; PRAGMA temp_store=MEMORY;" + sql)
    return db

SAVE = """INSERT INTO messages(grant_id, id, world_id, thread_id, subject, from_json, to_json, cc_json, bcc_json, reply_to_json,
    body, snippet, date, unread, starred, folders, attachments, headers, metadata, message_id_header, participants,
    has_attachments, created_at, updated_at, tracking_options) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT(grant_id, id) DO UPDATE SET subject = excluded.subject, body = excluded.body, snippet = excluded.snippet,
    unread = excluded.unread, starred = excluded.starred, folders = excluded.folders, metadata = excluded.metadata,
    attachments = excluded.attachments, updated_at = excluded.updated_at,
    tracking_options = COALESCE(excluded.tracking_options, tracking_options)"""

def sends(sql, integer, n):
    db = store(sql, integer)
    g = 7 if integer else str(uuid.uuid4())
    sender = json.dumps([{"email": "owner@gmail.com", "name": "Owner"}]).encode()
    body = "<p>Hello</p>" * 20
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        mid, tid, header = "%025x" % (i * 7919), "%025x" % (i * 104729), "<%d@gmail.com>" % i
        to = json.dumps([{"email": "r%d@example.com" % (i % 300), "name": "R"}]).encode()
        db.execute("BEGIN")
        db.execute(SAVE, (g, mid, i, tid, "Subject %d" % i, sender, to, b"[]", b"[]", b"[]", body, body[:100], 1700000000 + i,
                          0, 0, b'["SENT"]', b"[]", b'[{"name":"Message-ID","value":"<x@y>"}]', b"{}", header,
                          "owner@gmail.com r@example.com", 0, 1700000000, 1700000000, None))
        db.execute("DELETE FROM message_folders WHERE grant_id = ? AND message_id = ?", (g, mid))
        db.execute("INSERT OR IGNORE INTO message_folders(grant_id, folder_id, date, message_id) VALUES(?,?,?,?)",
                   (g, "SENT", 1700000000 + i, mid))
        for kind, key, oid in (("message", str(i), mid), ("thread", header, tid)):
            db.execute("SELECT id FROM object_ids WHERE grant_id = ? AND kind = ? AND world_key = ?", (g, kind, key)).fetchall()
            db.execute("INSERT OR IGNORE INTO object_ids(grant_id, kind, world_key, id, created_at) VALUES(?,?,?,?,?)",
                       (g, kind, key, oid, 0))
        db.execute("COMMIT")
    return (time.perf_counter() - t0) / n * 1e6

def loop_alone(n):
    db = sqlite3.connect(":memory:", isolation_level=None)
    t0 = time.perf_counter()
    for _ in range(n):
        for _ in range(9):
            db.execute("SELECT 1").fetchall()
    return (time.perf_counter() - t0) / n * 1e6

def bulk(sql, integer, n):
    db = store(sql, integer)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute("DROP TRIGGER " + name)
    g = "7" if integer else "'%s'" % uuid.uuid4()
    db.execute(f"""CREATE TEMP TABLE c AS WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {n})
        SELECT n, printf('%025x', 1000000 + n) AS mid, printf('%025x', 1000000 + (n - 1) / 3 * 3 + 1) AS tid,
               1700000000 + n * 60 AS date, 'sender' || (n % 500) || '@example.com' AS a, (n - 1) % 3 AS pos FROM seq""")
    steps = {
        "messages": f"""INSERT INTO messages(grant_id, id, world_id, thread_id, subject, from_json, to_json, cc_json, bcc_json,
            reply_to_json, body, snippet, date, unread, starred, folders, attachments, headers, metadata, message_id_header,
            participants, has_attachments, created_at, updated_at)
            SELECT {g}, mid, n, tid, 'Quarterly report ' || n, CAST('[{{"email":"' || a || '"}}]' AS BLOB), CAST('[]' AS BLOB),
            CAST('[]' AS BLOB), CAST('[]' AS BLOB), CAST('[]' AS BLOB),
            '<p>Hi, message ' || n || ' of the benchmark mailbox, quarterly numbers below.</p>', 'Hi, message ' || n, date,
            n % 3 = 0, 0, CAST('["INBOX"]' AS BLOB), CAST('[]' AS BLOB),
            CAST('[{{"name":"Message-ID","value":"<bulk-' || n || '@mail.gmail.com>"}}]' AS BLOB), CAST('{{}}' AS BLOB),
            '<bulk-' || n || '@mail.gmail.com>', a, 0, 0, 0 FROM c""",
        "message_folders": f"""INSERT INTO message_folders(grant_id, folder_id, date, message_id)
            SELECT {g}, CASE WHEN n % 10 = 0 THEN 'SENT' ELSE 'INBOX' END, date, mid FROM c""",
        "thread_latest": f"INSERT INTO thread_latest(grant_id, thread_id, latest) SELECT {g}, tid, MAX(date) FROM c GROUP BY tid",
        "message_addresses": f"""INSERT INTO message_addresses(grant_id, role, email, date, message_id)
            SELECT {g}, 0, a, date, mid FROM c UNION ALL SELECT {g}, 1, 'owner@gmail.com', date, mid FROM c""",
        "object_ids": f"INSERT INTO object_ids(grant_id, kind, world_key, id) SELECT {g}, 'message', CAST(n AS TEXT), mid FROM c",
        "object_ids (threads)": f"""INSERT INTO object_ids(grant_id, kind, world_key, id)
            SELECT {g}, 'thread', '<bulk-' || n || '@mail.gmail.com>', tid FROM c WHERE pos = 0""",
    }
    seconds = {}
    for name, statement in steps.items():
        t0 = time.perf_counter()
        db.execute("BEGIN"); db.execute(statement); db.execute("COMMIT")
        seconds[name] = time.perf_counter() - t0
    return seconds

def main():
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("--sends", type=int, default=15000)
    p.add_argument("--bulk", type=int, default=300000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    sql = schema(a.store)
    for r in range(a.rounds):
        text, integer = sends(sql, False, a.sends), sends(sql, True, a.sends)
        print("sends, round %d: text key %.1f µs, integer key %.1f µs, saved %.1f µs a send (the loop alone %.1f µs)"
              % (r + 1, text, integer, text - integer, loop_alone(2000)))
    for r in range(a.rounds):
        text, integer = bulk(sql, False, a.bulk), bulk(sql, True, a.bulk)
        parts = ", ".join("%s %.2f/%.2f" % (k, text[k], integer[k]) for k in text)
        print("bulk %d, round %d (text/integer, s): %s; total %.2f / %.2f s (%.0f %% less)"
              % (a.bulk, r + 1, parts, sum(text.values()), sum(integer.values()),
                 100 * (1 - sum(integer.values()) / sum(text.values()))))

if __name__ == "__main__":
    main()
