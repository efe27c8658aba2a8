-- A study's participants on the team store, as reviewer (or adjudicator) roles: each reads
-- their own tasks of the study's plan, never its models, and the plan's adjudication tasks are
-- assignments the server honours, as `store assign` is.

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
-- Called by the view below with the caller's rights; it reads nothing but its arguments.
GRANT EXECUTE ON FUNCTION interrogate_plan_field(bytea, text) TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- A plan line as participant `who` may read it, chosen by an allow-list. Their own tasks
-- whole (a live session's task names the model their machine calls, and its condition); of
-- everyone else's task, who does what about which session and scenario, never its model,
-- alias, condition or whether it is gold; of a round, its number, seed, time and size. Any
-- other line is only its type, and a line that does not read stays a line that does not read.
CREATE FUNCTION interrogate_participant_line(body bytea, who text) RETURNS text
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
        WHEN 'round' THEN keep := ARRAY['type', 'round', 'seed', 'study_sha256', 'planned', 'tasks'];
        WHEN 'round_end' THEN keep := ARRAY['type', 'round', 'tasks'];
        WHEN 'task' THEN
            IF j ->> 'annotator' = who THEN
                RETURN j::text;
            END IF;
            keep := ARRAY['type', 'id', 'round', 'kind', 'annotator', 'order', 'session_task', 'scenario'];
            out := '{"withheld": true}';
        ELSE keep := ARRAY['type'];
    END CASE;
    FOREACH k IN ARRAY keep LOOP
        IF j ? k AND jsonb_typeof(j -> k) IN ('string', 'number', 'boolean') THEN
            out := out || jsonb_build_object(k, j -> k);
        END IF;
    END LOOP;
    RETURN out::text;
END
$$;
REVOKE ALL ON FUNCTION interrogate_participant_line(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION interrogate_participant_line(bytea, text) TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- The plan of every study a person has a task in, as they may read it. The view runs with its
-- owner's rights: it is the only way a participant reads a plan.
CREATE VIEW interrogate_participant_plans WITH (security_barrier) AS
    SELECT f.collection, l.line_no, public.interrogate_participant_line(l.body, current_user::text) AS line
    FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
    WHERE f.kind = 'plan' AND EXISTS (
        SELECT 1 FROM interrogate_lines t
        WHERE t.file = f.id AND t.type = 'task' AND public.interrogate_plan_field(t.body, 'annotator') = current_user::text);
REVOKE ALL ON interrogate_participant_plans FROM PUBLIC;
GRANT SELECT ON interrogate_participant_plans TO interrogate_organiser, interrogate_reviewer, interrogate_adjudicator;

-- The sessions a study's plan gives the person connected to adjudicate: a session of the study
-- whose header answers a session task that one of their adjudication tasks is about. The view
-- runs with its owner's rights (it reads the plan and the headers, which the person may not),
-- and says only which sessions are theirs to adjudicate.
CREATE VIEW interrogate_plan_adjudications WITH (security_barrier) AS
    SELECT DISTINCT sf.collection, sf.session_id
    FROM interrogate_files pf
    JOIN interrogate_lines t ON t.file = pf.id AND t.type = 'task'
    JOIN interrogate_files sf ON sf.collection = pf.collection AND sf.kind = 'session'
    JOIN interrogate_lines h ON h.file = sf.id AND h.line_no = 1 AND h.type = 'header' AND h.blind IS NOT NULL
    WHERE pf.kind = 'plan'
      AND public.interrogate_plan_field(t.body, 'kind') = 'adjudication'
      AND public.interrogate_plan_field(t.body, 'annotator') = current_user::text
      AND (h.blind::json -> 'study' ->> 'name') = substr(pf.collection, length('studies/') + 1)
      AND (h.blind::json -> 'study' ->> 'task') = public.interrogate_plan_field(t.body, 'session_task');
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

-- How long a reply took tells one model from another: of a session's lines after its header,
-- the blind view no longer gives the time (the header's, when the session started, stays).
-- Rebuilt as json, not jsonb, so that every kept value stays as written.
CREATE OR REPLACE VIEW interrogate_blind_sessions WITH (security_barrier) AS
    SELECT f.collection, f.session_id, l.line_no, l.type,
           CASE WHEN l.type = 'header' THEN l.blind
                ELSE (SELECT json_object_agg(e.key, e.value)::text FROM json_each(l.blind::json) AS e WHERE e.key <> 'ts') END AS blind
    FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
    WHERE f.kind = 'session' AND l.type IN ('header', 'message', 'session_end') AND l.blind IS NOT NULL;
