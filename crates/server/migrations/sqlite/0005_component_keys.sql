-- Kept in step with migrations/postgres/0005_component_keys.sql.
-- A component's ports, variables, labels and dependencies carry its team (tenant_id, as in the
-- console). One foreign key on (service_id, tenant_id) checks that the component exists and that
-- the row names the component's own team; it replaces a key on each column, so a written row costs
-- one check instead of two. A dependency's other end (dep_service_id) keeps its own key.
-- SQLite cannot change a table's foreign keys, so the four tables are made again with their rows,
-- indexes and triggers (nothing references them).
CREATE UNIQUE INDEX tenant_services_service_id_tenant_id_key ON tenant_services (service_id, tenant_id);

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
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
);
INSERT INTO service_ports_new SELECT * FROM service_ports;
DROP TABLE service_ports;
ALTER TABLE service_ports_new RENAME TO service_ports;
CREATE INDEX service_ports_k8s_name ON service_ports (tenant_id, k8s_service_name);

CREATE TABLE service_envs_new (
    id             INTEGER PRIMARY KEY,
    service_id     TEXT NOT NULL,
    tenant_id      TEXT NOT NULL,
    -- 0 for variables that belong to no port.
    container_port INTEGER NOT NULL DEFAULT 0,
    name           TEXT NOT NULL DEFAULT '',
    attr_name      TEXT NOT NULL,
    attr_value     TEXT NOT NULL,
    is_change      INTEGER NOT NULL DEFAULT 1,
    -- inner, outer or build.
    scope          TEXT NOT NULL DEFAULT 'inner',
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
);
INSERT INTO service_envs_new SELECT * FROM service_envs;
DROP TABLE service_envs;
ALTER TABLE service_envs_new RENAME TO service_envs;
CREATE INDEX service_envs_service ON service_envs (service_id);

CREATE TABLE service_labels_new (
    id          INTEGER PRIMARY KEY,
    service_id  TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    region      TEXT NOT NULL,
    label_name  TEXT NOT NULL,
    label_value TEXT NOT NULL,
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
);
INSERT INTO service_labels_new SELECT * FROM service_labels;
DROP TABLE service_labels;
ALTER TABLE service_labels_new RENAME TO service_labels;
CREATE INDEX service_labels_service ON service_labels (service_id);

-- "service_id depends on dep_service_id".
CREATE TABLE service_dependencies_new (
    service_id     TEXT NOT NULL,
    dep_service_id TEXT NOT NULL REFERENCES tenant_services (service_id),
    tenant_id      TEXT NOT NULL,
    dep_order      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, dep_service_id),
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
);
INSERT INTO service_dependencies_new SELECT * FROM service_dependencies;
DROP TABLE service_dependencies;
ALTER TABLE service_dependencies_new RENAME TO service_dependencies;

-- A port service name (k8s_service_name) belongs to one component of a team, as in 0003.
CREATE TRIGGER service_ports_k8s_name_one_owner_insert BEFORE INSERT ON service_ports
WHEN EXISTS (
    SELECT 1 FROM service_ports
    WHERE tenant_id = NEW.tenant_id AND k8s_service_name = NEW.k8s_service_name AND service_id <> NEW.service_id
)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: service_ports.k8s_service_name is used by another component of the team');
END;

CREATE TRIGGER service_ports_k8s_name_one_owner_update BEFORE UPDATE OF tenant_id, k8s_service_name, service_id ON service_ports
WHEN EXISTS (
    SELECT 1 FROM service_ports
    WHERE tenant_id = NEW.tenant_id AND k8s_service_name = NEW.k8s_service_name AND service_id <> NEW.service_id
)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: service_ports.k8s_service_name is used by another component of the team');
END;
