-- Kept in step with migrations/sqlite/0006_port_name_owners.sql.
-- A port service name (k8s_service_name) belongs to one component of a team, which may give it to
-- several of its ports (0003). The rule is now a table of the names' owners, keyed by team and
-- name, instead of an exclusion constraint: each port names its owner row (its team, its name and
-- its own component), so no port can take a name another component owns, and two writers giving
-- one name to two components meet on the owner's key (a unique violation, which a copy tries
-- again). A btree key costs a written port less than the GiST exclusion check did (24 µs a port in
-- a grown store), and a name is looked up by that key. A port reaches its component through its
-- owner row, whose key names the component and its team.
CREATE TABLE port_service_names (
    tenant_id        TEXT NOT NULL,
    k8s_service_name TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, k8s_service_name),
    UNIQUE (service_id, tenant_id, k8s_service_name),
    FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id)
);
INSERT INTO port_service_names (tenant_id, k8s_service_name, service_id)
    SELECT DISTINCT tenant_id, k8s_service_name, service_id FROM service_ports;

ALTER TABLE service_ports
    DROP CONSTRAINT service_ports_k8s_name_one_owner,
    DROP CONSTRAINT service_ports_component_fkey,
    ADD CONSTRAINT service_ports_k8s_service_name_owner_fkey
        FOREIGN KEY (service_id, tenant_id, k8s_service_name)
        REFERENCES port_service_names (service_id, tenant_id, k8s_service_name);
DROP INDEX service_ports_k8s_name;
