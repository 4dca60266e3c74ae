-- Kept in step with migrations/postgres/0006_port_name_owners.sql.
-- A port service name (k8s_service_name) belongs to one component of a team, which may give it to
-- several of its ports (0003). The rule is now a table of the names' owners, keyed by team and
-- name, instead of triggers: each port names its owner row (its team, its name and its own
-- component), so no port can take a name another component owns. A port reaches its component
-- through its owner row, whose key names the component and its team. SQLite cannot change a
-- table's foreign keys, so service_ports is made again with its rows (nothing references it).
CREATE TABLE port_service_names (
    tenant_id        TEXT NOT NULL,
    k8s_service_name TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, k8s_service_name),
    UNIQUE (service_id, tenant_id, k8s_service_name),
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
) WITHOUT ROWID;
INSERT INTO port_service_names (tenant_id, k8s_service_name, service_id)
    SELECT DISTINCT tenant_id, k8s_service_name, service_id FROM service_ports;

DROP TRIGGER service_ports_k8s_name_one_owner_insert;
DROP TRIGGER service_ports_k8s_name_one_owner_update;

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
);
INSERT INTO service_ports_new SELECT * FROM service_ports;
DROP TABLE service_ports;
ALTER TABLE service_ports_new RENAME TO service_ports;
