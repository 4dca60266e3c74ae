-- Kept in step with migrations/sqlite/0005_component_keys.sql.
-- A component's ports, variables, labels and dependencies carry its team (tenant_id, as in the
-- console). One foreign key on (service_id, tenant_id) checks that the component exists and that
-- the row names the component's own team; it replaces a key on each column, so a written row costs
-- one check instead of two. A dependency's other end (dep_service_id) keeps its own key.
ALTER TABLE tenant_services ADD CONSTRAINT tenant_services_service_id_tenant_id_key UNIQUE (service_id, tenant_id);

ALTER TABLE service_ports
    DROP CONSTRAINT service_ports_service_id_fkey,
    DROP CONSTRAINT service_ports_tenant_id_fkey,
    ADD CONSTRAINT service_ports_component_fkey
        FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id);

ALTER TABLE service_envs
    DROP CONSTRAINT service_envs_service_id_fkey,
    DROP CONSTRAINT service_envs_tenant_id_fkey,
    ADD CONSTRAINT service_envs_component_fkey
        FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id);

ALTER TABLE service_labels
    DROP CONSTRAINT service_labels_service_id_fkey,
    DROP CONSTRAINT service_labels_tenant_id_fkey,
    ADD CONSTRAINT service_labels_component_fkey
        FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id);

ALTER TABLE service_dependencies
    DROP CONSTRAINT service_dependencies_service_id_fkey,
    DROP CONSTRAINT service_dependencies_tenant_id_fkey,
    ADD CONSTRAINT service_dependencies_component_fkey
        FOREIGN KEY (service_id, tenant_id) REFERENCES tenant_services (service_id, tenant_id);
