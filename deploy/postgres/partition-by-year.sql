-- The case ledger partitioned by discharge year, for a province whose ledger grows by millions of
-- cases a year.
--
-- `settlement_case` holds each case version's settlement list (with its fee lines) and its
-- valuation, so partitioning it by year partitions the case, fee-line and valuation data at once.
-- A county's month, a prepayment and a year-end clearing name their discharge range, so PostgreSQL
-- reads only that year's partition; a closed year can be moved to cheaper storage or detached and
-- archived on its own (`ALTER TABLE settlement_case DETACH PARTITION settlement_case_y2023`).
--
-- Run once with psql after `medpay migrate`, with the settlement service stopped:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f deploy/postgres/partition-by-year.sql
-- Running it again changes nothing. It creates the partitions from the ledger's first year (or
-- three years back) to next year, and a default partition for any other year; each December,
--   SELECT settlement_case_add_year(<next year>);
-- adds the coming year (a year's cases that arrived in the default partition move into it).
--
-- A partitioned table's primary key must contain the partition column, so the ledger's key
-- becomes (hospital_code, list_id, version, region_code, discharge_date). That key alone would let
-- two versions of one case with different discharge dates both be stored, and intake relies on
-- the key to refuse a version a concurrent upload already took. So the old key moves to
-- `settlement_case_version_key`, which a trigger fills in the same statement as every insert into
-- the ledger: a version taken twice still fails the write with a unique violation, whatever the
-- dates. On Citus, distribute that table with the ledger:
--   SELECT create_distributed_table('settlement_case_version_key', 'region_code',
--                                   colocate_with => 'settlement_case');
--
-- A later migration may add columns and create or drop indexes on `settlement_case` (PostgreSQL
-- carries them to every partition); one that rebuilds the table must rebuild it partitioned.
-- `integration-tests/tests/end_to_end/partition_by_year.rs` (CI's PostgreSQL step) runs this
-- file on a migrated database, clears a year through `medpay up` on it and compares every
-- statement with the same year cleared on an unpartitioned database.

BEGIN;

LOCK TABLE settlement_case IN ACCESS EXCLUSIVE MODE;

CREATE TABLE IF NOT EXISTS settlement_case_version_key (
    hospital_code varchar NOT NULL,
    list_id varchar NOT NULL,
    version integer NOT NULL,
    region_code integer NOT NULL,
    PRIMARY KEY (hospital_code, list_id, version, region_code)
);

-- Adds year `y`'s partition unless it exists; rows of that year that went to the default
-- partition meanwhile move into it (deleted and inserted through the parent, so the version keys
-- stay as they were).
CREATE OR REPLACE FUNCTION settlement_case_add_year(y integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    partition_name text := format('settlement_case_y%s', y);
BEGIN
    IF y < 1900 OR y > 9998 THEN
        RAISE EXCEPTION 'settlement_case_add_year: % is not a discharge year', y;
    END IF;
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN;
    END IF;
    CREATE TEMPORARY TABLE settlement_case_moving ON COMMIT DROP AS
        SELECT * FROM settlement_case
        WHERE discharge_date >= y * 10000 AND discharge_date < (y + 1) * 10000;
    DELETE FROM settlement_case
        WHERE discharge_date >= y * 10000 AND discharge_date < (y + 1) * 10000;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF settlement_case FOR VALUES FROM (%s) TO (%s)',
        partition_name, y * 10000, (y + 1) * 10000);
    INSERT INTO settlement_case SELECT * FROM settlement_case_moving;
    DROP TABLE settlement_case_moving;
END
$$;

CREATE OR REPLACE FUNCTION settlement_case_keep_version_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO settlement_case_version_key (hospital_code, list_id, version, region_code)
            SELECT hospital_code, list_id, version, region_code FROM inserted;
    ELSE
        DELETE FROM settlement_case_version_key k
            USING deleted d
            WHERE k.hospital_code = d.hospital_code AND k.list_id = d.list_id
              AND k.version = d.version AND k.region_code = d.region_code;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    index_definitions text[];
    definition text;
    first_year integer;
    last_year integer;
    this_year integer := extract(year FROM current_date)::integer;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'settlement_case'::regclass) THEN
        RAISE NOTICE 'settlement_case is already partitioned by year';
        RETURN;
    END IF;

    -- The indexes the migrations made, re-created on the partitioned table under their names.
    SELECT coalesce(array_agg(pg_get_indexdef(i.indexrelid) ORDER BY c.relname), '{}')
        INTO index_definitions
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'settlement_case'::regclass AND NOT i.indisprimary;
    IF EXISTS (SELECT 1 FROM pg_index WHERE indrelid = 'settlement_case'::regclass
               AND indisunique AND NOT indisprimary) THEN
        RAISE EXCEPTION 'settlement_case has a unique index besides its key; '
            'partitioning would change what it guarantees';
    END IF;
    EXECUTE (SELECT 'DROP INDEX ' || string_agg(quote_ident(c.relname), ', ')
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = 'settlement_case'::regclass AND NOT i.indisprimary);
    ALTER TABLE settlement_case RENAME TO settlement_case_unpartitioned;
    ALTER TABLE settlement_case_unpartitioned RENAME CONSTRAINT settlement_case_pkey
        TO settlement_case_unpartitioned_pkey;

    CREATE TABLE settlement_case (LIKE settlement_case_unpartitioned INCLUDING DEFAULTS
        INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)
        PARTITION BY RANGE (discharge_date);
    ALTER TABLE settlement_case ADD CONSTRAINT settlement_case_pkey
        PRIMARY KEY (hospital_code, list_id, version, region_code, discharge_date);
    FOREACH definition IN ARRAY index_definitions LOOP
        EXECUTE definition;
    END LOOP;
    CREATE TABLE settlement_case_default PARTITION OF settlement_case DEFAULT;

    SELECT least(min(discharge_date) / 10000, this_year - 3), greatest(max(discharge_date) / 10000, this_year + 1)
        INTO first_year, last_year
        FROM settlement_case_unpartitioned
        WHERE discharge_date BETWEEN 19000101 AND 99981231;
    first_year := coalesce(first_year, this_year - 3);
    last_year := coalesce(last_year, this_year + 1);
    FOR y IN first_year .. last_year LOOP
        PERFORM settlement_case_add_year(y);
    END LOOP;

    INSERT INTO settlement_case SELECT * FROM settlement_case_unpartitioned;
    INSERT INTO settlement_case_version_key (hospital_code, list_id, version, region_code)
        SELECT hospital_code, list_id, version, region_code FROM settlement_case_unpartitioned;
    DROP TABLE settlement_case_unpartitioned;

    CREATE TRIGGER settlement_case_version_keys_inserted AFTER INSERT ON settlement_case
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION settlement_case_keep_version_keys();
    CREATE TRIGGER settlement_case_version_keys_deleted AFTER DELETE ON settlement_case
        REFERENCING OLD TABLE AS deleted
        FOR EACH STATEMENT EXECUTE FUNCTION settlement_case_keep_version_keys();
END
$$;

ANALYZE settlement_case;
ANALYZE settlement_case_version_key;

COMMIT;
