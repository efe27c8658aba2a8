-- A study's participants on the team store, as reviewer roles: each reads their own tasks of
-- the study's plan, never its models, and the plan's adjudication tasks are assignments the
-- server honours, as `store assign` is.

-- One field of a plan line as text; null for a line that is not a JSON object (a torn one).
CREATE FUNCTION interrogate_plan_field(body bytea, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (convert_from(body, 'UTF8')::jsonb) ->> field;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION interrogate_plan_field(bytea, text) FROM PUBLIC;
-- Called by the views below with the caller's rights; it reads nothing but its arguments.
GRANT EXECUTE ON FUNCTION interrogate_plan_field(bytea, text) TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- The tasks of every plan that count: those of a round closed by its round_end before the next
-- round begins (a round cut short by a crash is not used, as interrogate's plan reader does not
-- use it, and planning again may give its task ids to other tasks). Read only by the views
-- below, with their owner's rights; nobody is granted it.
CREATE VIEW interrogate_plan_tasks AS
    WITH plan_lines AS (
        SELECT f.collection, l.file, l.line_no, l.type, l.body,
               count(*) FILTER (WHERE l.type = 'round') OVER (PARTITION BY l.file ORDER BY l.line_no) AS segment
        FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
        WHERE f.kind = 'plan'),
    ends AS (
        SELECT file, segment, line_no, public.interrogate_plan_field(body, 'round') AS round
        FROM plan_lines WHERE type = 'round_end')
    SELECT DISTINCT t.collection, t.file, t.line_no,
           public.interrogate_plan_field(t.body, 'id') AS id,
           public.interrogate_plan_field(t.body, 'kind') AS kind,
           public.interrogate_plan_field(t.body, 'annotator') AS annotator,
           public.interrogate_plan_field(t.body, 'session_task') AS session_task
    FROM plan_lines t JOIN ends e ON e.file = t.file AND e.segment = t.segment AND e.line_no > t.line_no
        AND e.round = public.interrogate_plan_field(t.body, 'round')
    WHERE t.type = 'task' AND t.segment > 0;
REVOKE ALL ON interrogate_plan_tasks FROM PUBLIC;

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
    WHERE f.kind = 'plan' AND EXISTS (
        SELECT 1 FROM interrogate_plan_tasks t WHERE t.file = f.id AND t.annotator = current_user::text);
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
    JOIN interrogate_files sf ON sf.collection = a.collection AND sf.kind = 'session' AND sf.rater = s.annotator
    JOIN interrogate_lines h ON h.file = sf.id AND h.line_no = 1 AND h.type = 'header' AND h.blind IS NOT NULL
    WHERE a.kind = 'adjudication' AND a.annotator = current_user::text
      AND (h.blind::json -> 'study' ->> 'name') = substr(a.collection, length('studies/') + 1)
      AND (h.blind::json -> 'study' ->> 'task') = a.session_task;
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

-- What a blind reviewer reads of a session, as before, with two things fewer. How long a reply
-- took tells one model from another: of the lines after the header, the time is left out (the
-- header's, when the session started, stays); each kept line is rebuilt as json, not jsonb, so
-- every kept value stays as written. And the lines are numbered 1, 2, 3… among what the view
-- shows, since the gaps where annotations were would count how often a reply was tagged.
CREATE OR REPLACE VIEW interrogate_blind_sessions WITH (security_barrier) AS
    SELECT f.collection, f.session_id,
           (row_number() OVER (PARTITION BY f.collection, f.session_id ORDER BY l.line_no))::integer AS line_no, l.type,
           CASE WHEN l.type = 'header' THEN l.blind
                ELSE (SELECT json_object_agg(e.key, e.value)::text FROM json_each(l.blind::json) AS e WHERE e.key <> 'ts') END AS blind
    FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
    WHERE f.kind = 'session' AND l.type IN ('header', 'message', 'session_end') AND l.blind IS NOT NULL;
