-- Kept in step with migrations/sqlite/0006_port_name_index.sql.
-- The index that finds a port service name in a team leads with the name. A copy looks up each of
-- its candidate names as a row range over (k8s_service_name, tenant_id), which only a btree can
-- serve and which ends with the name's entries; led by the team, the same range would read on to
-- the end of the team's names.
DROP INDEX service_ports_k8s_name;
CREATE INDEX service_ports_k8s_name ON service_ports (k8s_service_name, tenant_id);

-- The exclusion constraint's GiST index leads with the name too: its pages then split on names
-- rather than on teams, and a name is found (or added) without searching through its team's names.
ALTER TABLE service_ports
    DROP CONSTRAINT service_ports_k8s_name_one_owner,
    ADD CONSTRAINT service_ports_k8s_name_one_owner
        EXCLUDE USING gist (k8s_service_name WITH =, tenant_id WITH =, service_id WITH <>);
