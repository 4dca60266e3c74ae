-- A port service name (k8s_service_name) belongs to one component of a team; that component may
-- give it to several of its ports. Kept in step with migrations/postgres/0003 (an exclusion
-- constraint there). SQLite runs one writer at a time, so a trigger enforces it exactly.
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
