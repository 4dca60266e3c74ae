-- Kept in step with migrations/sqlite/0002_copy_lookups.sql.
-- Indexes that keep the cost of a copy independent of how much the store holds: the copy reads
-- a source component's attachments by service_id.
CREATE INDEX service_config_files_service ON service_config_files (service_id);
CREATE INDEX service_labels_service ON service_labels (service_id);
CREATE INDEX service_probes_service ON service_probes (service_id);
