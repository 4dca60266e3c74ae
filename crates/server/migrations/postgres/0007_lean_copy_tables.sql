-- Kept in step with migrations/sqlite/0007_lean_copy_tables.sql.
-- Fewer indexes for a copy to write into: tenant_services_tenant (tenant_id) is read by no
-- statement, and each component written inserted into it. (SQLite's side also stores three tables
-- by their primary keys; a PostgreSQL table is always a heap beside its key's index.)
DROP INDEX tenant_services_tenant;
