-- A port service name (k8s_service_name) belongs to one component of a team; that component may
-- give it to several of its ports. Kept in step with migrations/sqlite/0003 (a trigger there).
-- btree_gist is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE service_ports ADD CONSTRAINT service_ports_k8s_name_one_owner
    EXCLUDE USING gist (tenant_id WITH =, k8s_service_name WITH =, service_id WITH <>);
