-- The writes that read after locking a row, each as one function that the
-- writing statement calls once it holds the lock and has checked the caller
-- (db/writes.py, `locked_call`): deleting a project or a model, moving or
-- deleting an environment, and adding a member to an organization.
--
-- Why functions: one statement reads with the snapshot it began with, taken
-- before its lock was granted, so it would miss a child committed while it
-- waited (the delete would then hit the foreign key instead of answering
-- CONFLICT) or renumber positions from before a concurrent move. A VOLATILE
-- function's statements each take a new snapshot (READ COMMITTED), which sees
-- all that was committed before its lock was granted. The caller's visibility
-- and role stay in the statement that calls these, built from the registry;
-- it passes NULL for a caller who may not write, which STRICT answers with
-- NULL without running the body.

-- What stops deleting models (and the project above them): an environment, or
-- a segment not deleted (deleted ones go with their model). STABLE: it reads
-- with the snapshot of the statement that calls it, taken after the lock.
CREATE FUNCTION envgraph_models_in_use(model_ids uuid[]) RETURNS boolean
LANGUAGE sql STABLE STRICT AS $$
    SELECT EXISTS (SELECT 1 FROM environments WHERE model_id = ANY (model_ids))
        OR EXISTS (SELECT 1 FROM segments WHERE model_id = ANY (model_ids) AND deleted_at IS NULL)
$$;

-- A project whose models are not in use goes, with what is left below it
-- (empty models, deleted segments, memberships); the caller holds the
-- project's lock. 'busy' when something stops it, 'deleted' when gone.
CREATE FUNCTION envgraph_delete_project(project uuid) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
    below uuid[];
BEGIN
    -- an environment or segment being added holds its model's row (the foreign
    -- key's FOR KEY SHARE) until it commits, not the project's: wait for it here,
    -- so that the next statement sees it (a new model waits for the project's lock)
    SELECT coalesce(array_agg(id), '{}') INTO below
    FROM (SELECT id FROM models WHERE project_id = project FOR UPDATE) m;
    IF envgraph_models_in_use(below) THEN
        RETURN 'busy';
    END IF;
    -- children first: the foreign keys
    DELETE FROM segments WHERE project_id = project;
    DELETE FROM models WHERE project_id = project;
    DELETE FROM project_members WHERE project_id = project;
    DELETE FROM projects WHERE id = project;
    RETURN 'deleted';
END
$$;

-- A model not in use goes, its deleted segments with it; the caller holds the
-- model's lock. 'busy' or 'deleted'.
CREATE FUNCTION envgraph_delete_model(model uuid) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
BEGIN
    IF envgraph_models_in_use(ARRAY[model]) THEN
        RETURN 'busy';
    END IF;
    DELETE FROM segments WHERE model_id = model;
    DELETE FROM models WHERE id = model;
    RETURN 'deleted';
END
$$;

-- The environment's model locked FOR UPDATE. Whatever changes the positions of
-- a model's environments (create, whose insert locks the model; move;
-- delete) locks the model's row first, then the environments': such writes to
-- one model run one after the other, taking their locks in that order, and the
-- positions stay 0..n-1. Answers its model, read again under the lock, or
-- NULL when the environment went meanwhile.
CREATE FUNCTION envgraph_lock_model_of(environment uuid) RETURNS uuid
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
    model uuid;
BEGIN
    SELECT model_id INTO model FROM environments WHERE id = environment;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM models WHERE id = model FOR UPDATE;
    -- a new statement: a snapshot taken after the lock was granted
    SELECT model_id INTO model FROM environments WHERE id = environment;
    RETURN model;  -- NULL when deleted while the lock was waited for
END
$$;

-- Delete an environment (a protected one stays) and number the rest of its
-- model's 0..n-1 in display order. 'gone', 'protected' or 'deleted'.
CREATE FUNCTION envgraph_delete_environment(environment uuid) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
    model uuid := envgraph_lock_model_of(environment);
BEGIN
    IF model IS NULL THEN
        RETURN 'gone';
    END IF;
    IF (SELECT protected FROM environments WHERE id = environment) THEN
        RETURN 'protected';
    END IF;
    DELETE FROM environments WHERE id = environment;
    UPDATE environments e SET sort_order = r.position
    FROM (SELECT id, row_number() OVER (ORDER BY sort_order, name, id) - 1 AS position
          FROM environments WHERE model_id = model) r
    WHERE e.id = r.id AND e.sort_order <> r.position;
    RETURN 'deleted';
END
$$;

-- Put an environment at a 0-based position among its model's environments, the
-- others numbered 0..n-1 around it in display order (sort_order, name, id).
-- Answers the model's number of environments and the environment as moved,
-- the move made only when the position is from 0 to one below that number;
-- both NULL when the environment is gone.
CREATE FUNCTION envgraph_move_environment(
    environment uuid, target integer, OUT total bigint, OUT moved environments
)
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
    model uuid := envgraph_lock_model_of(environment);
BEGIN
    IF model IS NULL THEN
        RETURN;
    END IF;
    SELECT count(*) INTO total FROM environments WHERE model_id = model;
    IF target < 0 OR target >= total THEN
        RETURN;
    END IF;
    WITH others AS (
        SELECT id, row_number() OVER (ORDER BY sort_order, name, id) - 1 AS position
        FROM environments WHERE model_id = model AND id <> environment
    ), placed AS (
        SELECT id, position + (position >= target)::int AS position FROM others
        UNION ALL
        SELECT environment, target
    )
    UPDATE environments e SET sort_order = p.position
    FROM placed p
    WHERE e.id = p.id AND e.sort_order <> p.position;
    -- a new snapshot again: the row as the update left it (its updated_at too)
    SELECT * INTO moved FROM environments WHERE id = environment;
END
$$;

-- Make the user with e-mail `address` (any letter case) a member of the
-- organization in `member_role`, or change their role; an unknown address
-- becomes a user first (named `name`, with no token), so that the caller learns
-- nothing of who else has an account. The caller holds the organization's row.
CREATE FUNCTION envgraph_put_organization_member(
    organization uuid, address text, name text, member_role organization_role
) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
    member uuid;
BEGIN
    LOOP
        SELECT id INTO member FROM users WHERE lower(email) = lower(address);
        EXIT WHEN FOUND;
        INSERT INTO users (email, name) VALUES (address, name)
        ON CONFLICT (lower(email)) DO NOTHING
        RETURNING id INTO member;
        EXIT WHEN member IS NOT NULL;
        -- created by a transaction that committed while this insert waited for
        -- it: the next statement's snapshot sees it
    END LOOP;
    INSERT INTO organization_members (organization_id, user_id, role)
    VALUES (organization, member, member_role)
    ON CONFLICT (organization_id, user_id) DO UPDATE SET role = member_role;
    RETURN 'member';
END
$$;
