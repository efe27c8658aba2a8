-- A study's participants on the team store, as reviewer roles: each reads their own tasks of
-- the study's plan, never its models, and the plan's adjudication tasks are assignments the
-- server honours, as `store assign` is.

-- The tasks of every plan that count, as interrogate's plan reader (StudyPlan.read) counts them,
-- kept when each round is closed: a round counts when its round line, every line in it and its
-- round_end read, and nothing of it is out of place; a round cut short by a crash, or with a line
-- that does not read, is not used. A plan the reader refuses whole (a round that does not follow
-- the one before, counts that do not add up, a task id twice, a review about no session) counts
-- nothing from then on. Written by the function below as each round_end is inserted; read by the
-- views below with their owner's rights. Indexed for the row-level policies, which look here on
-- every statement a participant makes.
CREATE TABLE interrogate_plan_rounds (
    file        bigint NOT NULL REFERENCES interrogate_files (id),
    round       integer NOT NULL,
    PRIMARY KEY (file, round)
);
CREATE TABLE interrogate_plan_tasks (
    file         bigint NOT NULL REFERENCES interrogate_files (id),
    line_no      integer NOT NULL,
    collection   text NOT NULL,
    id           text NOT NULL,
    kind         text NOT NULL,
    annotator    text NOT NULL,
    session_task text,
    PRIMARY KEY (file, line_no),
    UNIQUE (file, id)
);
CREATE INDEX interrogate_plan_tasks_annotator ON interrogate_plan_tasks (annotator, kind);
CREATE TABLE interrogate_plan_refused (
    file        bigint PRIMARY KEY REFERENCES interrogate_files (id),
    why         text NOT NULL
);
CREATE INDEX interrogate_files_rater ON interrogate_files (collection, rater, kind);
-- Which session answers a study task, from its header (what the blind view may show of it).
CREATE INDEX interrogate_lines_study_task ON interrogate_lines (((blind::json -> 'study') ->> 'task')) WHERE line_no = 1 AND type = 'header';
REVOKE ALL ON interrogate_plan_rounds, interrogate_plan_tasks, interrogate_plan_refused FROM PUBLIC;
-- Only an organiser writes a plan, so only an organiser's insert fills these.
GRANT SELECT, INSERT ON interrogate_plan_rounds, interrogate_plan_tasks, interrogate_plan_refused TO interrogate_organiser;

-- Reads the round that the round_end at line `last` of plan `plan_file` closes. Runs with the
-- rights of whoever inserts the line (an organiser), like the line reader of 0001.
CREATE FUNCTION interrogate_count_round(plan_file bigint, last integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    coll text;
    first integer;
    r jsonb;
    e jsonb;
    t jsonb;
    l record;
    tasks jsonb[] := '{}';
    lines integer[] := '{}';
    ids text[] := '{}';
    previous integer;
    refusal text;
BEGIN
    SELECT f.collection INTO coll FROM public.interrogate_files f WHERE f.id = plan_file AND f.kind = 'plan';
    IF coll IS NULL OR EXISTS (SELECT 1 FROM public.interrogate_plan_refused x WHERE x.file = plan_file) THEN
        RETURN;
    END IF;
    SELECT max(x.line_no) INTO first FROM public.interrogate_lines x WHERE x.file = plan_file AND x.type = 'round' AND x.line_no < last;
    -- A round_end outside a round, or after another round_end: not used.
    IF first IS NULL OR EXISTS (SELECT 1 FROM public.interrogate_lines x WHERE x.file = plan_file AND x.type = 'round_end'
                                AND x.line_no > first AND x.line_no < last) THEN
        RETURN;
    END IF;
    BEGIN
        r := convert_from((SELECT x.body FROM public.interrogate_lines x WHERE x.file = plan_file AND x.line_no = first), 'UTF8')::jsonb;
        e := convert_from((SELECT x.body FROM public.interrogate_lines x WHERE x.file = plan_file AND x.line_no = last), 'UTF8')::jsonb;
    EXCEPTION WHEN OTHERS THEN
        RETURN;
    END;
    -- A round line that does not read gives the round up.
    IF jsonb_typeof(r -> 'round') IS DISTINCT FROM 'number' OR jsonb_typeof(r -> 'seed') IS DISTINCT FROM 'number'
       OR jsonb_typeof(r -> 'study_sha256') IS DISTINCT FROM 'string' OR jsonb_typeof(r -> 'planned') IS DISTINCT FROM 'string'
       OR jsonb_typeof(r -> 'tasks') IS DISTINCT FROM 'number' OR jsonb_typeof(e -> 'round') IS DISTINCT FROM 'number'
       OR jsonb_typeof(e -> 'tasks') IS DISTINCT FROM 'number' THEN
        RETURN;
    END IF;
    FOR l IN SELECT x.line_no, x.type, x.body FROM public.interrogate_lines x
             WHERE x.file = plan_file AND x.line_no > first AND x.line_no < last ORDER BY x.line_no LOOP
        -- A line that does not read gives the round up; a line of another type is passed over.
        IF l.type IS NULL THEN
            RETURN;
        END IF;
        CONTINUE WHEN l.type <> 'task';
        BEGIN
            t := convert_from(l.body, 'UTF8')::jsonb;
        EXCEPTION WHEN OTHERS THEN
            RETURN;
        END;
        -- A task this version cannot read gives the round up.
        IF jsonb_typeof(t -> 'id') IS DISTINCT FROM 'string' OR jsonb_typeof(t -> 'round') IS DISTINCT FROM 'number'
           OR (t ->> 'kind') IS NULL OR (t ->> 'kind') NOT IN ('session', 'review', 'adjudication')
           OR jsonb_typeof(t -> 'annotator') IS DISTINCT FROM 'string' OR jsonb_typeof(t -> 'order') IS DISTINCT FROM 'number'
           OR (t ->> 'condition') IS NOT DISTINCT FROM 'withheld' OR t ? 'withheld' THEN
            RETURN;
        END IF;
        tasks := tasks || t;
        lines := lines || l.line_no;
    END LOOP;
    -- What makes the reader refuse the whole plan.
    SELECT max(x.round) INTO previous FROM public.interrogate_plan_rounds x WHERE x.file = plan_file;
    IF (e -> 'round') <> (r -> 'round') OR (e ->> 'tasks')::numeric <> cardinality(tasks) OR (r ->> 'tasks')::numeric <> cardinality(tasks) THEN
        refusal := 'round_end does not match the round it ends';
    ELSIF (r ->> 'round')::numeric <> coalesce(previous, 0) + 1 THEN
        refusal := 'a round that does not follow the one before';
    END IF;
    IF refusal IS NULL THEN
        SELECT array_agg(x.id) INTO ids FROM public.interrogate_plan_tasks x WHERE x.file = plan_file;
        ids := coalesce(ids, '{}');
        FOR i IN 1 .. cardinality(tasks) LOOP
            t := tasks[i];
            IF (t ->> 'id') = ANY (ids) THEN
                refusal := 'a task planned twice';
            ELSIF (t -> 'round') <> (r -> 'round') THEN
                refusal := 'a task of another round inside a round';
            ELSIF t ->> 'kind' = 'session' AND (jsonb_typeof(t -> 'scenario') IS DISTINCT FROM 'string'
                  OR jsonb_typeof(t -> 'condition') IS DISTINCT FROM 'string' OR jsonb_typeof(t -> 'alias') IS DISTINCT FROM 'string'
                  OR (coalesce(t ->> 'gold', 'false') <> 'true' AND jsonb_typeof(t -> 'model') IS DISTINCT FROM 'string')) THEN
                refusal := 'a session task without its model, alias, scenario or condition';
            ELSIF t ->> 'kind' <> 'session' AND NOT ((t ->> 'session_task') = ANY (ids)) THEN
                refusal := 'a task about a session task that is not planned';
            END IF;
            EXIT WHEN refusal IS NOT NULL;
            ids := ids || (t ->> 'id');
        END LOOP;
    END IF;
    IF refusal IS NOT NULL THEN
        INSERT INTO public.interrogate_plan_refused (file, why) VALUES (plan_file, refusal) ON CONFLICT DO NOTHING;
        RETURN;
    END IF;
    INSERT INTO public.interrogate_plan_rounds (file, round) VALUES (plan_file, (r ->> 'round')::integer);
    FOR i IN 1 .. cardinality(tasks) LOOP
        INSERT INTO public.interrogate_plan_tasks (file, line_no, collection, id, kind, annotator, session_task)
        VALUES (plan_file, lines[i], coll, tasks[i] ->> 'id', tasks[i] ->> 'kind', tasks[i] ->> 'annotator', tasks[i] ->> 'session_task');
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION interrogate_count_round(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION interrogate_count_round(bigint, integer) TO interrogate_organiser;

CREATE FUNCTION interrogate_round_closed() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.interrogate_count_round(NEW.file, NEW.line_no);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION interrogate_round_closed() FROM PUBLIC;
CREATE TRIGGER interrogate_lines_round_closed AFTER INSERT ON interrogate_lines
    FOR EACH ROW WHEN (NEW.type = 'round_end') EXECUTE FUNCTION interrogate_round_closed();

-- The plans already in the store, read round by round in order (a loop: a round counts only
-- after the one before it).
DO $$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT l.file, l.line_no FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file
             WHERE f.kind = 'plan' AND l.type = 'round_end' ORDER BY l.file, l.line_no LOOP
        PERFORM interrogate_count_round(e.file, e.line_no);
    END LOOP;
END
$$;

-- A plan line as participant `who` may read it, chosen by an allow-list. Their own tasks of a
-- round that counts (`counted`) whole: a live session's task names the model their machine
-- calls, and its condition. Of every other task, who does what about which session and
-- scenario, never its model, alias, condition, whether it is gold or its script; of a round,
-- its number, time and size, never its seed or the design's digest (with the seed and what
-- she knows of the design, the planner could be run again to give every session's model).
-- Any other line is only its type, and a line that does not read stays a line that does not read.
CREATE FUNCTION interrogate_participant_line(body bytea, who text, counted boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    j jsonb;
    keep text[];
    out jsonb := '{}';
    k text;
BEGIN
    BEGIN
        j := convert_from(body, 'UTF8')::jsonb;
    EXCEPTION WHEN OTHERS THEN
        RETURN 'withheld: a line that does not read';
    END;
    IF jsonb_typeof(j) IS DISTINCT FROM 'object' THEN
        RETURN 'withheld: a line that does not read';
    END IF;
    CASE j ->> 'type'
        WHEN 'round' THEN keep := ARRAY['type', 'round', 'planned', 'tasks'];
        WHEN 'round_end' THEN keep := ARRAY['type', 'round', 'tasks'];
        WHEN 'task' THEN
            IF j ->> 'annotator' = who AND counted THEN
                RETURN j::text;
            END IF;
            keep := ARRAY['type', 'id', 'round', 'kind', 'annotator', 'order', 'session_task', 'scenario'];
            out := '{"withheld": true}';
        ELSE keep := ARRAY['type'];
    END CASE;
    FOREACH k IN ARRAY keep LOOP
        IF j ? k AND jsonb_typeof(j -> k) IN ('string', 'number') THEN
            out := out || jsonb_build_object(k, j -> k);
        END IF;
    END LOOP;
    RETURN out::text;
END
$$;
REVOKE ALL ON FUNCTION interrogate_participant_line(bytea, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION interrogate_participant_line(bytea, text, boolean) TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- The plan of every study a person has a task in, as they may read it. The view runs with its
-- owner's rights: it is the only way a participant reads a plan.
CREATE VIEW interrogate_participant_plans WITH (security_barrier) AS
    SELECT f.collection, l.line_no,
           public.interrogate_participant_line(l.body, current_user::text,
               EXISTS (SELECT 1 FROM interrogate_plan_tasks c WHERE c.file = l.file AND c.line_no = l.line_no)) AS line
    FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
    WHERE f.kind = 'plan'
      AND NOT EXISTS (SELECT 1 FROM interrogate_plan_refused x WHERE x.file = f.id)
      AND EXISTS (SELECT 1 FROM interrogate_plan_tasks t WHERE t.file = f.id AND t.annotator = current_user::text);
REVOKE ALL ON interrogate_participant_plans FROM PUBLIC;
GRANT SELECT ON interrogate_participant_plans TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- The sessions a study's plan gives the person connected to adjudicate: the session, run by the
-- annotator the plan gave its session task to, whose header answers that task. The view runs
-- with its owner's rights (it reads the plan and the headers, which the person may not), and
-- says only which sessions are theirs to adjudicate.
CREATE VIEW interrogate_plan_adjudications WITH (security_barrier) AS
    SELECT DISTINCT sf.collection, sf.session_id
    FROM interrogate_plan_tasks a
    JOIN interrogate_plan_tasks s ON s.file = a.file AND s.id = a.session_task AND s.kind = 'session'
    JOIN interrogate_lines h ON ((h.blind::json -> 'study') ->> 'task') = a.session_task AND h.line_no = 1 AND h.type = 'header'
    JOIN interrogate_files sf ON sf.id = h.file AND sf.collection = a.collection AND sf.kind = 'session' AND sf.rater = s.annotator
    WHERE a.annotator = current_user::text AND a.kind = 'adjudication'
      AND NOT EXISTS (SELECT 1 FROM interrogate_plan_refused x WHERE x.file = a.file)
      AND (h.blind::json -> 'study' ->> 'name') = substr(a.collection, length('studies/') + 1);
REVOKE ALL ON interrogate_plan_adjudications FROM PUBLIC;
GRANT SELECT ON interrogate_plan_adjudications TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- A participant given a session to adjudicate by the plan reads it whole (its reviews too) and
-- writes their adjudication of it, as an adjudicator assigned to it does.
CREATE POLICY plan_adjudicator_files_read ON interrogate_files FOR SELECT TO interrogate_reviewer, interrogate_adjudicator
    USING (collection LIKE 'studies/%' AND (collection, session_id) IN (
        SELECT a.collection, a.session_id FROM public.interrogate_plan_adjudications a));
CREATE POLICY plan_adjudicator_lines_read ON interrogate_lines FOR SELECT TO interrogate_reviewer, interrogate_adjudicator
    USING (file IN (SELECT f.id FROM public.interrogate_files f
        JOIN public.interrogate_plan_adjudications a ON a.collection = f.collection AND a.session_id = f.session_id));
CREATE POLICY plan_adjudicator_files_write ON interrogate_files FOR INSERT TO interrogate_reviewer, interrogate_adjudicator
    WITH CHECK (rater = current_user AND kind = 'adjudication' AND created_by = current_user AND (collection, session_id) IN (
        SELECT a.collection, a.session_id FROM public.interrogate_plan_adjudications a));
CREATE POLICY plan_adjudicator_lines_write ON interrogate_lines FOR INSERT TO interrogate_reviewer
    WITH CHECK (written_by = current_user AND EXISTS (SELECT 1 FROM public.interrogate_files f
        WHERE f.id = file AND f.rater = current_user AND f.kind = 'adjudication'));

-- What a blind reviewer reads of a session, as before, with three things fewer. How long a
-- reply took tells one model from another: of the lines after the header the time is left out
-- (the header's, when the session started, stays), and a session is shown only up to its latest
-- end, so that nobody times a live session's replies by watching them arrive. The lines are
-- numbered 1, 2, 3… among what the view shows, in `line_no` and in each line's `seq`, since the
-- gaps where annotations were would count how often a reply was tagged. Each kept line is
-- rebuilt as json, not jsonb, so that every kept value stays as written.
CREATE OR REPLACE VIEW interrogate_blind_sessions WITH (security_barrier) AS
    SELECT v.collection, v.session_id, v.line_no, v.type,
           CASE WHEN v.type = 'header' THEN v.blind
                ELSE (SELECT json_object_agg(e.key, CASE WHEN e.key = 'seq' THEN to_json(v.line_no) ELSE e.value END)::text
                      FROM json_each(v.blind::json) AS e WHERE e.key <> 'ts') END AS blind
    FROM (SELECT f.collection, f.session_id,
                 (row_number() OVER (PARTITION BY f.collection, f.session_id ORDER BY l.line_no))::integer AS line_no, l.type, l.blind
          FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
          WHERE f.kind = 'session' AND l.type IN ('header', 'message', 'session_end') AND l.blind IS NOT NULL
            AND l.line_no <= (SELECT max(x.line_no) FROM interrogate_lines x WHERE x.file = f.id AND x.type = 'session_end')) v;

-- The row-level policies make the planner's cost estimates large enough for JIT, which then
-- spends about a second compiling each statement of a query that takes milliseconds: off for
-- this database (interrogate also turns it off on its own connections), where its owner may.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit left as it is: only the database''s owner may turn it off for everyone';
END
$$;
