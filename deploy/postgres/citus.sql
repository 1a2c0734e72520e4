-- How a national deployment distributes medpay's tables over a Citus cluster: by pooling region.
--
-- Run once on the coordinator after `medpay migrate`, with the services stopped. Every query of a
-- county's month, a region's prepayment or its year-end clearing names one region code, so it is
-- routed to the one shard that holds that region; the region's tables are co-located, so a
-- clearing's transaction (cases, run, statements, the cases it took) stays on one node.
--
-- Citus refuses to distribute a table unless its distribution column is in the primary key and in
-- every unique index: settlement m0019 and supervision m0008 put `region_code` last into the keys
-- that lacked it (PostgreSQL only), and the tables that had no region take the region of the row
-- they belong to (statements their run's, settlement m0020; warnings and rechecks their case
-- version's, m0021; lead links their lead's, supervision m0009).
-- `integration-tests/tests/end_to_end/citus_plan.rs` runs this file on a migrated database against
-- functions that make Citus's checks, and requires every table to be placed here or listed as
-- pending below with the change it needs.

-- The ledger and everything a region's runs read and write: distributed by region, co-located.
SELECT create_distributed_table('settlement_case', 'region_code');
SELECT create_distributed_table('settlement_case_clearing', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_run', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_statement', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_special_case', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_case_warning', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_case_recheck', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_closed_month', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_policy', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_year_inputs', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_budget_point_value', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_main_method', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_outpatient_enrolment', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('settlement_expert', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('budget_version', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('budget_allocation', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('budget_sharing_policy', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('points_table_version', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('grouping_activation', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_rule', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_rule_parameters', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_run', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_finding', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_scorecard', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_assessment_run', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_assessment', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_credit_policy', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_credit_change', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_level_change', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_lead', 'region_code', colocate_with => 'settlement_case');
SELECT create_distributed_table('supervision_lead_link', 'region_code', colocate_with => 'settlement_case');

-- The journals of idempotent writes and the audit logs are keyed by the caller: a caller's retries
-- and its audit entries land on one shard with its journal entries. A write then spans its
-- region's shard and its caller's, which Citus commits in two phases.
SELECT create_distributed_table('settlement_request', 'caller_id');
SELECT create_distributed_table('settlement_upload', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('settlement_upload_chunk', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('budget_request', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('grouping_request', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('points_request', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('supervision_request', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('settlement_audit', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('budget_audit', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('grouping_audit', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('points_audit', 'caller_id', colocate_with => 'settlement_request');
SELECT create_distributed_table('supervision_audit', 'caller_id', colocate_with => 'settlement_request');

-- Small, national and read by every region: copied to every node.
SELECT create_reference_table('grouping_scheme');
SELECT create_reference_table('settlement_institution');
SELECT create_reference_table('settlement_agreement');
SELECT create_reference_table('access_api_key');
SELECT create_reference_table('access_request');
SELECT create_reference_table('access_audit');

-- Each context's migration history stays on the coordinator, where `medpay migrate` runs.
SELECT citus_add_local_table_to_metadata('access_migrations');
SELECT citus_add_local_table_to_metadata('budget_migrations');
SELECT citus_add_local_table_to_metadata('grouping_migrations');
SELECT citus_add_local_table_to_metadata('points_migrations');
SELECT citus_add_local_table_to_metadata('settlement_migrations');
SELECT citus_add_local_table_to_metadata('supervision_migrations');

-- A table not yet distributable is listed here as `-- pending: <table> <the change it needs>`
-- (the test checks that each still fails Citus's checks, so a table that is fixed has to move up
-- into the plan). None is pending.
