-- Stand-ins for the three Citus functions deploy/postgres/citus.sql calls, making the checks Citus
-- makes before it places a table (PostgreSQL without the extension), and recording each placement.
CREATE TABLE citus_placement (
  table_name text PRIMARY KEY,
  method text NOT NULL,
  distribution_column text,
  colocation_group text
);

-- Why `table_name` could not be distributed by `distribution_column`, or NULL when Citus would.
CREATE FUNCTION citus_refusal(table_name regclass, distribution_column text) RETURNS text AS $$
DECLARE
  column_number smallint;
  nullable boolean;
  uncovered text;
BEGIN
  SELECT attnum, NOT attnotnull INTO column_number, nullable
    FROM pg_attribute
   WHERE attrelid = table_name AND attname = distribution_column AND NOT attisdropped;
  IF column_number IS NULL THEN
    RETURN format('%s has no column %s', table_name, distribution_column);
  END IF;
  IF nullable THEN
    RETURN format('%s.%s allows NULL', table_name, distribution_column);
  END IF;
  SELECT string_agg(indexrelid::regclass::text, ', ') INTO uncovered
    FROM pg_index
   WHERE indrelid = table_name AND indisunique AND NOT (column_number = ANY (indkey));
  IF uncovered IS NOT NULL THEN
    RETURN format('%s: unique index(es) %s without %s', table_name, uncovered, distribution_column);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION create_distributed_table(
  table_name regclass, distribution_column text, colocate_with text DEFAULT 'default'
) RETURNS void AS $$
DECLARE
  refusal text := citus_refusal(table_name, distribution_column);
  own_type regtype;
  group_type regtype;
  group_name text := table_name::text;
BEGIN
  IF refusal IS NOT NULL THEN
    RAISE EXCEPTION 'cannot distribute %: %', table_name, refusal;
  END IF;
  SELECT atttypid::regtype INTO own_type FROM pg_attribute
   WHERE attrelid = table_name AND attname = distribution_column;
  IF colocate_with NOT IN ('default', 'none') THEN
    SELECT p.colocation_group, a.atttypid::regtype INTO group_name, group_type
      FROM citus_placement p
      JOIN pg_attribute a ON a.attrelid = p.table_name::regclass AND a.attname = p.distribution_column
     WHERE p.table_name = colocate_with AND p.method = 'distributed';
    IF group_name IS NULL THEN
      RAISE EXCEPTION 'cannot colocate % with %: not a distributed table', table_name, colocate_with;
    END IF;
    IF group_type <> own_type THEN
      RAISE EXCEPTION 'cannot colocate % (%) with % (%)', table_name, own_type, colocate_with, group_type;
    END IF;
  END IF;
  INSERT INTO citus_placement VALUES (table_name::text, 'distributed', distribution_column, group_name);
END $$ LANGUAGE plpgsql;

CREATE FUNCTION create_reference_table(table_name regclass) RETURNS void AS $$
  INSERT INTO citus_placement VALUES (table_name::text, 'reference', NULL, NULL);
$$ LANGUAGE sql;

CREATE FUNCTION citus_add_local_table_to_metadata(
  table_name regclass, cascade_via_foreign_keys boolean DEFAULT false
) RETURNS void AS $$
  INSERT INTO citus_placement VALUES (table_name::text, 'coordinator', NULL, NULL);
$$ LANGUAGE sql;
