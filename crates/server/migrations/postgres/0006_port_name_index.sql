-- Kept in step with migrations/sqlite/0006_port_name_index.sql.
-- The index that finds a port service name in a team leads with the name. A copy looks up each of
-- its candidate names as a row range over (k8s_service_name, tenant_id), which only a btree can
-- serve and which ends with the name's entries; led by the team, the same range would read on to
-- the end of the team's names.
DROP INDEX service_ports_k8s_name;
CREATE INDEX service_ports_k8s_name ON service_ports (k8s_service_name, tenant_id);
