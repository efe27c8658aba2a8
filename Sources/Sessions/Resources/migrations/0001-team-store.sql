-- interrogate team store, schema version 1. Applied once by `interrogate store init`, in one
-- transaction, by the database's owner. A file here is never edited once released: a change is
-- a new numbered file (`store init` refuses a database whose applied file differs from this one).
--
-- The store holds a folder's files exactly: each append-only file (a session, a rater's file, a
-- signal sidecar, a study's plan) as its lines, in order; study.yaml as its versions. Rows are
-- only ever added. Who may read what is enforced here, by row-level security, for three group
-- roles a person's own login role is made a member of (`interrogate store add-rater`).

-- A reply's text is stored and read as UTF-8 whatever the server's other databases use.
DO $$
BEGIN
    IF pg_catalog.current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the team store needs a UTF8 database; this one is %: CREATE DATABASE … ENCODING ''UTF8'' TEMPLATE template0',
            pg_catalog.current_setting('server_encoding');
    END IF;
END
$$;

-- Group roles belong to the whole server, not to one database; two stores initialised at once
-- on one server both try to create them, and the second finds them made.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['interrogate_organiser', 'interrogate_reviewer', 'interrogate_adjudicator'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END LOOP;
END
$$;

-- Nobody but the owner creates objects here: a function of the same name as one the store
-- calls, made by a reviewer, must not run with an organiser's rights.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- One row per file of a folder: `collection` is the folder (`transcripts`, or `studies/NAME`
-- for a study), `path` the file's place in it. `rater` is whose file it is: the rater of a
-- review or adjudication file, the session's annotator for a session and its sidecars.
CREATE TABLE interrogate_files (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection  text NOT NULL CHECK (collection ~ '^(transcripts|studies/[A-Za-z0-9][A-Za-z0-9._-]{0,63})$'),
    path        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('session', 'review', 'adjudication', 'logprobs', 'probes', 'plan', 'study')),
    session_id  text CHECK (session_id ~ '^[^./][^/]{0,254}$' AND session_id !~ '[[:cntrl:]]'),
    rater       text CHECK (rater ~ '^(judge:)?[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    created_by  name NOT NULL DEFAULT current_user,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection, path),
    CHECK ((kind IN ('plan', 'study')) = (session_id IS NULL)),
    CHECK ((kind IN ('plan', 'study')) = (rater IS NULL)),
    -- The path is what the other columns say, so nobody can hold another rater's or another
    -- session's place under their own name.
    CHECK (path = CASE
        WHEN kind = 'study' AND collection LIKE 'studies/%' THEN 'study.yaml'
        WHEN kind = 'plan' AND collection LIKE 'studies/%' THEN 'plan.jsonl'
        ELSE (CASE WHEN collection LIKE 'studies/%' THEN 'transcripts/' ELSE '' END) || session_id || '/' || CASE kind
            WHEN 'session' THEN 'session.jsonl'
            WHEN 'logprobs' THEN 'logprobs.jsonl'
            WHEN 'probes' THEN 'probes.jsonl'
            WHEN 'review' THEN 'reviews/' || rater || '.jsonl'
            WHEN 'adjudication' THEN 'adjudications/' || rater || '.jsonl'
        END
    END)
);

-- The lines of each file, in the order the server took them (`id`, a server-assigned
-- sequence). `body` is the line exactly as in the file, without its newline (bytes: a torn
-- fragment kept by a recovery need not be UTF-8). `type` and `blind` are the server's own
-- reading of it (below), whatever a client sends.
CREATE TABLE interrogate_lines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file        bigint NOT NULL REFERENCES interrogate_files (id),
    line_no     integer NOT NULL CHECK (line_no >= 1),
    type        text,
    body        bytea NOT NULL,
    blind       text,
    written_by  name NOT NULL DEFAULT current_user,
    written_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file, line_no)
);
-- Planner statistics of these columns would show values of rows a role may not read.
ALTER TABLE interrogate_lines ALTER COLUMN body SET STATISTICS 0;
ALTER TABLE interrogate_lines ALTER COLUMN blind SET STATISTICS 0;
ALTER TABLE interrogate_lines ALTER COLUMN type SET STATISTICS 0;
ALTER TABLE interrogate_files ALTER COLUMN rater SET STATISTICS 0;
ALTER TABLE interrogate_files ALTER COLUMN path SET STATISTICS 0;

-- What a blind reviewer may read of a session's line, chosen by an allow-list: of the header
-- its session, annotator, scenario (id, title, sha256, and the scenario file, which holds both
-- conditions' prompts) and study (name, task); of a message its index, role, text and status;
-- of the end, that it ended. Never the model, its parameters or what the server said it was,
-- the condition or the prompt as sent, the study's alias or gold replies, an error's text,
-- reasoning, usage or timings. Null for every other line.
-- A kept value is a string or a number, never an object that could carry anything.
CREATE FUNCTION interrogate_scalar(v json) RETURNS json LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN pg_catalog.json_typeof(v) IN ('string', 'number') THEN v END
$$;

-- Runs with the rights of whoever inserts (never the owner's: a function of theirs must not
-- run as the owner), with their row-level security, and names everything in full.
CREATE FUNCTION interrogate_read_line() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    j json;
    t text;
    before text;
    kind text;
    session text;
    owner text;
    parsed boolean := false;
BEGIN
    NEW.type := NULL;
    NEW.blind := NULL;
    SELECT f.kind, f.session_id, f.rater INTO kind, session, owner FROM public.interrogate_files f WHERE f.id = NEW.file;
    IF kind IS NULL THEN
        RETURN NEW;   -- no such file, or not this role's: the insert is refused after this
    END IF;
    -- A file's lines follow each other: line N only after line N-1.
    IF NEW.line_no > 1 AND NOT EXISTS (SELECT 1 FROM public.interrogate_lines l WHERE l.file = NEW.file AND l.line_no = NEW.line_no - 1) THEN
        RAISE EXCEPTION 'line % of % comes only after line %', NEW.line_no, owner, NEW.line_no - 1 USING ERRCODE = 'check_violation';
    END IF;
    BEGIN
        t := convert_from(NEW.body, 'UTF8');
        -- PostgreSQL's JSON functions refuse the escape \u0000 (a NUL a model sent); for what a
        -- reviewer reads it becomes U+FFFD. An escaped backslash before "u0000" is not one.
        -- Only a line that holds the escape at all pays for the regular expression.
        WHILE strpos(t, '\u0000') > 0 LOOP
            before := t;
            t := regexp_replace(t, '(^|[^\\])((\\\\)*)\\u0000', '\1\2\\ufffd', 'g');
            EXIT WHEN t = before;
        END LOOP;
        j := t::json;
        IF json_typeof(j) = 'object' THEN
            NEW.type := j ->> 'type';
        END IF;
        parsed := true;
    EXCEPTION WHEN OTHERS THEN
        parsed := false;   -- not JSON (a torn fragment, a line of study.yaml): kept, not read
    END;
    IF kind <> 'session' THEN
        RETURN NEW;
    END IF;
    -- A session file is whose its header says, and has one header, its first line: nobody
    -- opens another person's session under their own name.
    IF NEW.line_no = 1 THEN
        BEGIN
            IF NOT parsed OR NEW.type IS DISTINCT FROM 'header' OR (j ->> 'session_id') IS DISTINCT FROM session
               OR (j ->> 'annotator') IS DISTINCT FROM owner THEN
                RAISE EXCEPTION 'x' USING ERRCODE = 'check_violation';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'the first line of %''s session % must be its header, naming that session and annotator', owner, session
                USING ERRCODE = 'check_violation';
        END;
    ELSIF NEW.type = 'header' THEN
        RAISE EXCEPTION 'a session has one header, its first line (line % of %''s session %)', NEW.line_no, owner, session
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT parsed THEN
        RETURN NEW;
    END IF;
    -- Built from the line's own JSON text (`->` never unescapes), so what is kept is kept as
    -- written; a key the line lacks, or one that is not a string or number, is null.
    BEGIN
        IF NEW.type = 'header' THEN
            NEW.blind := json_build_object(
                'v', public.interrogate_scalar(j -> 'v'), 'seq', public.interrogate_scalar(j -> 'seq'),
                'ts', public.interrogate_scalar(j -> 'ts'), 'type', 'header',
                'session_id', public.interrogate_scalar(j -> 'session_id'), 'annotator', public.interrogate_scalar(j -> 'annotator'),
                'scenario', json_build_object('id', public.interrogate_scalar(j -> 'scenario' -> 'id'),
                                              'title', public.interrogate_scalar(j -> 'scenario' -> 'title'),
                                              'sha256', public.interrogate_scalar(j -> 'scenario' -> 'sha256'),
                                              'content', public.interrogate_scalar(j -> 'scenario' -> 'content')),
                'study', CASE WHEN json_typeof(j -> 'study') IS DISTINCT FROM 'object' THEN NULL
                              ELSE json_build_object('name', public.interrogate_scalar(j -> 'study' -> 'name'),
                                                     'task', public.interrogate_scalar(j -> 'study' -> 'task')) END)::text;
        ELSIF NEW.type = 'message' THEN
            NEW.blind := json_build_object(
                'v', public.interrogate_scalar(j -> 'v'), 'seq', public.interrogate_scalar(j -> 'seq'),
                'ts', public.interrogate_scalar(j -> 'ts'), 'type', 'message',
                'index', public.interrogate_scalar(j -> 'index'), 'role', public.interrogate_scalar(j -> 'role'),
                'text', public.interrogate_scalar(j -> 'text'), 'status', public.interrogate_scalar(j -> 'status'))::text;
        ELSIF NEW.type = 'session_end' THEN
            NEW.blind := json_build_object('v', public.interrogate_scalar(j -> 'v'), 'seq', public.interrogate_scalar(j -> 'seq'),
                                           'ts', public.interrogate_scalar(j -> 'ts'), 'type', 'session_end')::text;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        NEW.blind := NULL;   -- a header or message the allow-list cannot read is never shown
    END;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION interrogate_read_line() FROM PUBLIC;
CREATE TRIGGER interrogate_lines_read BEFORE INSERT ON interrogate_lines
    FOR EACH ROW EXECUTE FUNCTION interrogate_read_line();

-- Which adjudicator may read which session whole.
CREATE TABLE interrogate_assignments (
    collection  text NOT NULL,
    session_id  text NOT NULL,
    adjudicator name NOT NULL,
    assigned_by name NOT NULL DEFAULT current_user,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, session_id, adjudicator)
);

-- Append-only, for everyone, the owner included: nothing saved is ever rewritten.
CREATE FUNCTION interrogate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the interrogate team store is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER interrogate_files_append_only BEFORE UPDATE OR DELETE ON interrogate_files
    FOR EACH ROW EXECUTE FUNCTION interrogate_append_only();
CREATE TRIGGER interrogate_files_no_truncate BEFORE TRUNCATE ON interrogate_files
    FOR EACH STATEMENT EXECUTE FUNCTION interrogate_append_only();
CREATE TRIGGER interrogate_lines_append_only BEFORE UPDATE OR DELETE ON interrogate_lines
    FOR EACH ROW EXECUTE FUNCTION interrogate_append_only();
CREATE TRIGGER interrogate_lines_no_truncate BEFORE TRUNCATE ON interrogate_lines
    FOR EACH STATEMENT EXECUTE FUNCTION interrogate_append_only();
CREATE TRIGGER interrogate_assignments_append_only BEFORE UPDATE OR DELETE ON interrogate_assignments
    FOR EACH ROW EXECUTE FUNCTION interrogate_append_only();
CREATE TRIGGER interrogate_assignments_no_truncate BEFORE TRUNCATE ON interrogate_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION interrogate_append_only();

-- Privileges: SELECT and INSERT only; no UPDATE, DELETE or TRUNCATE is granted to anyone.
REVOKE ALL ON interrogate_files, interrogate_lines, interrogate_assignments FROM PUBLIC;
GRANT SELECT, INSERT ON interrogate_files, interrogate_lines TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;
GRANT SELECT, INSERT ON interrogate_assignments TO interrogate_organiser;
GRANT SELECT ON interrogate_assignments TO interrogate_adjudicator;

ALTER TABLE interrogate_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE interrogate_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE interrogate_assignments ENABLE ROW LEVEL SECURITY;

-- The organiser: everything.
CREATE POLICY organiser_files ON interrogate_files TO interrogate_organiser USING (true) WITH CHECK (true);
CREATE POLICY organiser_lines ON interrogate_lines TO interrogate_organiser USING (true) WITH CHECK (true);
CREATE POLICY organiser_assignments ON interrogate_assignments TO interrogate_organiser USING (true) WITH CHECK (true);

-- An adjudicator sees their own assignments.
CREATE POLICY adjudicator_assignments ON interrogate_assignments FOR SELECT TO interrogate_adjudicator
    USING (adjudicator = current_user);

-- A reviewer: their own files (sessions they ran, their reviews) whole, and that other
-- sessions exist; never another rater's review, adjudication, sidecar or a study's files.
CREATE POLICY reviewer_files_read ON interrogate_files FOR SELECT TO interrogate_reviewer
    USING (rater = current_user OR kind = 'session');
CREATE POLICY reviewer_files_write ON interrogate_files FOR INSERT TO interrogate_reviewer
    WITH CHECK (rater = current_user AND kind IN ('session', 'review', 'logprobs', 'probes') AND created_by = current_user);
CREATE POLICY reviewer_lines_read ON interrogate_lines FOR SELECT TO interrogate_reviewer
    USING (EXISTS (SELECT 1 FROM interrogate_files f WHERE f.id = file AND f.rater = current_user));
CREATE POLICY reviewer_lines_write ON interrogate_lines FOR INSERT TO interrogate_reviewer
    WITH CHECK (written_by = current_user AND EXISTS (SELECT 1 FROM interrogate_files f
        WHERE f.id = file AND f.rater = current_user AND f.kind IN ('session', 'review', 'logprobs', 'probes')));

-- An adjudicator: their own adjudication files, and every file of a session assigned to them.
CREATE POLICY adjudicator_files_read ON interrogate_files FOR SELECT TO interrogate_adjudicator
    USING (rater = current_user OR kind = 'session' OR EXISTS (SELECT 1 FROM interrogate_assignments a
        WHERE a.collection = interrogate_files.collection AND a.session_id = interrogate_files.session_id AND a.adjudicator = current_user));
CREATE POLICY adjudicator_files_write ON interrogate_files FOR INSERT TO interrogate_adjudicator
    WITH CHECK (rater = current_user AND kind = 'adjudication' AND created_by = current_user AND EXISTS (SELECT 1 FROM interrogate_assignments a
        WHERE a.collection = interrogate_files.collection AND a.session_id = interrogate_files.session_id AND a.adjudicator = current_user));
CREATE POLICY adjudicator_lines_read ON interrogate_lines FOR SELECT TO interrogate_adjudicator
    USING (EXISTS (SELECT 1 FROM interrogate_files f WHERE f.id = file AND (f.rater = current_user OR EXISTS (
        SELECT 1 FROM interrogate_assignments a WHERE a.collection = f.collection AND a.session_id = f.session_id AND a.adjudicator = current_user))));
CREATE POLICY adjudicator_lines_write ON interrogate_lines FOR INSERT TO interrogate_adjudicator
    WITH CHECK (written_by = current_user AND EXISTS (SELECT 1 FROM interrogate_files f
        WHERE f.id = file AND f.rater = current_user AND f.kind = 'adjudication'));

-- What a blind reviewer reads of every session: the header and the messages, without the
-- model's identity (`blind`), never an annotation. The view runs with its owner's rights, so it
-- is the only way a reviewer reads another person's session.
CREATE VIEW interrogate_blind_sessions WITH (security_barrier) AS
    SELECT f.collection, f.session_id, l.line_no, l.type, l.blind
    FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
    WHERE f.kind = 'session' AND l.type IN ('header', 'message', 'session_end') AND l.blind IS NOT NULL;
REVOKE ALL ON interrogate_blind_sessions FROM PUBLIC;
GRANT SELECT ON interrogate_blind_sessions TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- Every person's interrogate checks the schema version before it reads or writes.
GRANT SELECT ON interrogate_migrations TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;
