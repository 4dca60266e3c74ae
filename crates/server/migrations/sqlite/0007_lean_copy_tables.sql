-- Kept in step with migrations/postgres/0007_lean_copy_tables.sql.
-- Fewer b-trees for a copy to write into. A copy inserts into every table of a component's rows,
-- and each b-tree it changes costs the writer's commit a page (a WAL frame) and an index insert.
-- - tenant_services_tenant (tenant_id) is read by no statement: dropped.
-- - service_ports, service_dependencies and service_source_auth are read only by component, the
--   first column of their primary keys, and their rows are short: as WITHOUT ROWID tables each
--   keeps its rows in its primary key's b-tree instead of a table and a key index beside it.
--   Nothing references them, so they are made again with their rows (SQLite cannot change a
--   table's storage).
DROP INDEX tenant_services_tenant;

CREATE TABLE service_ports_new (
    service_id       TEXT NOT NULL,
    tenant_id        TEXT NOT NULL,
    container_port   INTEGER NOT NULL,
    protocol         TEXT NOT NULL,
    port_alias       TEXT NOT NULL,
    is_inner_service INTEGER NOT NULL DEFAULT 0,
    is_outer_service INTEGER NOT NULL DEFAULT 0,
    k8s_service_name TEXT NOT NULL,
    PRIMARY KEY (service_id, container_port),
    FOREIGN KEY (service_id, tenant_id, k8s_service_name)
        REFERENCES port_service_names (service_id, tenant_id, k8s_service_name)
) WITHOUT ROWID;
INSERT INTO service_ports_new SELECT * FROM service_ports;
DROP TABLE service_ports;
ALTER TABLE service_ports_new RENAME TO service_ports;

CREATE TABLE service_dependencies_new (
    service_id     TEXT NOT NULL,
    dep_service_id TEXT NOT NULL REFERENCES tenant_services (service_id),
    tenant_id      TEXT NOT NULL,
    dep_order      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, dep_service_id),
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
) WITHOUT ROWID;
INSERT INTO service_dependencies_new SELECT * FROM service_dependencies;
DROP TABLE service_dependencies;
ALTER TABLE service_dependencies_new RENAME TO service_dependencies;

CREATE TABLE service_source_auth_new (
    service_id TEXT PRIMARY KEY REFERENCES tenant_services (service_id),
    user_name  TEXT NOT NULL,
    password   TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO service_source_auth_new SELECT * FROM service_source_auth;
DROP TABLE service_source_auth;
ALTER TABLE service_source_auth_new RENAME TO service_source_auth;
