"""Versioned schema: MIGRATIONS[n] takes the database from user_version n to n + 1. Append only."""

from __future__ import annotations

_V1 = """
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    config_url TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    etag TEXT,
    last_modified TEXT,
    next_check_at REAL,
    first_polled_at REAL,
    last_polled_at REAL,
    last_success_at REAL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since REAL,
    last_error TEXT,
    disabled_reason TEXT
);
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    guid_key TEXT UNIQUE,
    url_key TEXT UNIQUE,
    fp_key TEXT,
    url TEXT,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published_at REAL,
    first_seen_at REAL NOT NULL,
    updated_at REAL,
    content_hash TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    entities TEXT NOT NULL DEFAULT '[]',
    salience TEXT NOT NULL DEFAULT '{}',
    alerted_entities TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX articles_status ON articles(status, first_seen_at);
CREATE INDEX articles_fp ON articles(fp_key);
CREATE TABLE article_sources (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    link TEXT,
    seen_at REAL NOT NULL,
    PRIMARY KEY (article_id, feed_id)
);
CREATE TABLE mentions (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    surface TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    in_title INTEGER NOT NULL
);
CREATE INDEX mentions_article ON mentions(article_id);
CREATE TABLE claims (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    rank INTEGER,
    kind TEXT NOT NULL,
    speaker TEXT,
    subject TEXT,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    sentence TEXT NOT NULL,
    score REAL NOT NULL,
    unconfirmed INTEGER NOT NULL
);
CREATE INDEX claims_article ON claims(article_id);
CREATE TABLE tombstones (
    key TEXT PRIMARY KEY,
    pruned_at REAL NOT NULL
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    digest TEXT,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw BLOB NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt_at REAL,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    sent_at REAL,
    refused TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE TABLE digest_marks (
    digest TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    outbox_id INTEGER REFERENCES outbox(id),
    PRIMARY KEY (digest, article_id)
);
CREATE TABLE digest_runs (
    digest TEXT PRIMARY KEY,
    last_run_at REAL NOT NULL
);
CREATE TABLE alerts (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    outbox_id INTEGER REFERENCES outbox(id),
    created_at REAL NOT NULL,
    PRIMARY KEY (article_id, entity)
)
"""

# v2: an article re-scanned after an entity change that found a new actor in it is shown again
# as earlier coverage.
_V2 = """
ALTER TABLE articles ADD COLUMN rescanned_at REAL
"""

# v3: the feed's own <ttl> is kept, so it still stretches the interval after a 304.
_V3 = """
ALTER TABLE feeds ADD COLUMN ttl_minutes INTEGER
"""

# v4: claims keep their normalised text, so a quote already published by another outlet is
# recognised and ranked after novel claims.
_V4 = """
ALTER TABLE claims ADD COLUMN norm TEXT;
CREATE INDEX claims_norm ON claims(norm)
"""

# v5: a message being sent is claimed (owner, expiry) so no second flush, in this process or
# another, sends it at the same time; an alert is owed in the transaction that stores the
# analysis deciding it (state 'owed'), queued later ('queued'), or held back by the hourly cap
# ('capped'), so a crash between the two steps leaves a debt a restart pays, not a lost alert.
_V5 = """
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until REAL;
ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
CREATE INDEX alerts_owed ON alerts(state) WHERE state = 'owed'
"""

# v6: a feed that answers but gives nothing to read (no entries) is a problem, shown by status
# and the digest's feed health, though each poll succeeds; problem_since debounces the digest.
_V6 = """
ALTER TABLE feeds ADD COLUMN last_problem TEXT;
ALTER TABLE feeds ADD COLUMN problem_since REAL
"""

# v7: full-text search for the web console: an external-content FTS5 index (it stores no copy of
# the text) over the titles and texts of the articles that name a tracked actor (salience not
# empty), rowid = articles.id. Claims need no index of their own: each is a span of its
# article's text. Triggers keep the index in step with every write the store already makes (an
# analysis that finds or loses an actor, a new text, a prune); the INSERT … SELECT backfills the
# existing rows. Only articles naming an actor, because an FTS5 write fired by a trigger costs
# ~0.15 ms (the statement's savepoint flushes FTS5's buffer): for every article that would add
# ~4.5 CPU s to a cold cycle of 30,000 items; for the ~15 % that name an actor it adds ~0.7 s.
# unicode61 with remove_diacritics 2 folds accents ("perché" finds "perche") and splits Italian
# elisions at the apostrophe ("l'intelligenza" → "l", "intelligenza"); a prefix ("regol*") is
# expanded at query time (prefix indexes would double the cost of each write). An index on the
# publication time lets a search walk the archive newest first and stop after one page, and one
# by id gives the time of a found article without reading its row (its text); indexes on who is
# mentioned and who speaks serve the actor pages and filters. Trigger bodies keep each inner
# statement on one line: the migration runner splits a script at ";" followed by a newline.
# The index holds only some rows of its content table: never run its 'rebuild' (it would index
# every article) nor trust its 'integrity-check' (it compares with every article).
_V7 = """
CREATE VIRTUAL TABLE article_fts USING fts5(title, text, content='articles', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER article_fts_insert AFTER INSERT ON articles WHEN new.salience != '{}' BEGIN INSERT INTO article_fts (rowid, title, text) VALUES (new.id, new.title, new.text); END;
CREATE TRIGGER article_fts_delete AFTER DELETE ON articles WHEN old.salience != '{}' BEGIN INSERT INTO article_fts (article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END;
CREATE TRIGGER article_fts_update AFTER UPDATE OF title, text, salience ON articles WHEN old.title IS NOT new.title OR old.text IS NOT new.text OR (old.salience != '{}') != (new.salience != '{}') BEGIN INSERT INTO article_fts (article_fts, rowid, title, text) SELECT 'delete', old.id, old.title, old.text WHERE old.salience != '{}'; INSERT INTO article_fts (rowid, title, text) SELECT new.id, new.title, new.text WHERE new.salience != '{}'; END;
INSERT INTO article_fts (rowid, title, text) SELECT id, title, text FROM articles WHERE salience != '{}';
CREATE INDEX articles_when ON articles(COALESCE(published_at, first_seen_at), id);
CREATE INDEX articles_id_when ON articles(id, COALESCE(published_at, first_seen_at));
CREATE INDEX mentions_entity ON mentions(entity, article_id);
CREATE INDEX claims_speaker ON claims(speaker, article_id);
CREATE INDEX claims_subject ON claims(subject, article_id)
"""

# v8: chat and webhook channels share the outbox (claims, retries, dead letters, status): a row
# with a channel name holds the rendered Markdown post (subject = title, raw = UTF-8 body) for
# that channel; mail rows keep channel NULL.
_V8 = """
ALTER TABLE outbox ADD COLUMN channel TEXT;
CREATE INDEX outbox_channel ON outbox(channel, kind, created_at) WHERE channel IS NOT NULL
"""

# v9: several daemons share one store. A feed being polled is leased (owner, expiry), so each
# due feed is polled by one daemon and a dead daemon's feeds return after the expiry; a digest
# slot (digest name, scheduled time) is taken once, by the transaction that queues its message,
# so one slot is rendered into one message whichever daemons run it.
_V9 = """
ALTER TABLE feeds ADD COLUMN leased_by TEXT;
ALTER TABLE feeds ADD COLUMN leased_until REAL;
CREATE INDEX feeds_leased ON feeds(leased_by) WHERE leased_by IS NOT NULL;
CREATE TABLE digest_slots (
    digest TEXT NOT NULL,
    slot_at REAL NOT NULL,
    taken_by TEXT NOT NULL,
    taken_at REAL NOT NULL,
    outbox_id INTEGER,
    PRIMARY KEY (digest, slot_at)
)
"""

# v10: the lease query walks the due feeds in order and stops after a batch (without an index
# it sorted every feed for each batch: quadratic over a 10,000-feed cycle); the hourly alert cap
# counts the last hour's alerts without reading them all.
_V10 = """
CREATE INDEX feeds_due ON feeds((COALESCE(next_check_at, 0)), id) WHERE active = 1 AND disabled_reason IS NULL;
CREATE INDEX alerts_created ON alerts(created_at)
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10]
