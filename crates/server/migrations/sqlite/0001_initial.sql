-- The console's data model, reduced to what listing and copying components touch.
-- Column names follow the Rainbond console's tables (tenant_service & co.).

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    nick_name     TEXT NOT NULL UNIQUE,
    enterprise_id TEXT NOT NULL
);

-- Access keys are stored as SHA-256 digests, never in clear.
CREATE TABLE user_access_keys (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (user_id),
    key_sha256  BLOB NOT NULL UNIQUE,
    -- Unix seconds; NULL never expires.
    expire_time INTEGER
);

CREATE TABLE regions (
    region_name   TEXT PRIMARY KEY,
    region_alias  TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    -- '1' is usable, as in the console.
    status        TEXT NOT NULL DEFAULT '1'
);

CREATE TABLE tenants (
    tenant_id     TEXT PRIMARY KEY,
    tenant_name   TEXT NOT NULL UNIQUE,
    tenant_alias  TEXT NOT NULL,
    enterprise_id TEXT NOT NULL
);

CREATE TABLE tenant_members (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    user_id   INTEGER NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE tenant_regions (
    tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
    region_name TEXT NOT NULL REFERENCES regions (region_name),
    is_init     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, region_name)
);

CREATE TABLE apps (
    app_id          INTEGER PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (tenant_id),
    region_name     TEXT NOT NULL REFERENCES regions (region_name),
    app_name        TEXT NOT NULL,
    governance_mode TEXT NOT NULL DEFAULT 'KUBERNETES_NATIVE_SERVICE'
);

CREATE TABLE tenant_services (
    service_id              TEXT PRIMARY KEY,
    service_alias           TEXT NOT NULL UNIQUE,
    tenant_id               TEXT NOT NULL REFERENCES tenants (tenant_id),
    service_region          TEXT NOT NULL REFERENCES regions (region_name),
    app_id                  INTEGER NOT NULL REFERENCES apps (app_id),
    service_key             TEXT NOT NULL,
    service_cname           TEXT NOT NULL,
    "desc"                  TEXT,
    category                TEXT NOT NULL,
    version                 TEXT NOT NULL,
    update_version          INTEGER NOT NULL DEFAULT 1,
    image                   TEXT NOT NULL,
    cmd                     TEXT,
    min_node                INTEGER NOT NULL DEFAULT 1,
    min_cpu                 INTEGER NOT NULL DEFAULT 250,
    container_gpu           INTEGER NOT NULL DEFAULT 0,
    min_memory              INTEGER NOT NULL DEFAULT 512,
    extend_method           TEXT NOT NULL DEFAULT 'stateless_multiple',
    code_from               TEXT,
    git_url                 TEXT,
    git_project_id          INTEGER NOT NULL DEFAULT 0,
    git_full_name           TEXT,
    code_version            TEXT,
    service_type            TEXT,
    creater                 INTEGER NOT NULL,
    language                TEXT,
    total_memory            INTEGER NOT NULL DEFAULT 0,
    is_service              INTEGER NOT NULL DEFAULT 0,
    service_origin          TEXT NOT NULL DEFAULT 'assistant',
    tenant_service_group_id INTEGER NOT NULL DEFAULT 0,
    open_webhooks           INTEGER NOT NULL DEFAULT 0,
    service_source          TEXT,
    create_status           TEXT,
    check_uuid              TEXT,
    check_event_id          TEXT,
    docker_cmd              TEXT,
    server_type             TEXT NOT NULL DEFAULT 'git',
    is_upgrate              INTEGER NOT NULL DEFAULT 0,
    build_upgrade           INTEGER NOT NULL DEFAULT 1,
    oauth_service_id        INTEGER,
    k8s_component_name      TEXT NOT NULL,
    deploy_version          TEXT,
    create_time             TEXT NOT NULL,
    update_time             TEXT NOT NULL,
    -- Component names are unique within an app; the copy renames clashes.
    UNIQUE (app_id, k8s_component_name)
);
CREATE INDEX tenant_services_tenant ON tenant_services (tenant_id);

-- Build-source credentials: copied with a component, never returned by the API.
CREATE TABLE service_source_auth (
    service_id TEXT PRIMARY KEY REFERENCES tenant_services (service_id),
    user_name  TEXT NOT NULL,
    password   TEXT NOT NULL
);

CREATE TABLE service_ports (
    service_id       TEXT NOT NULL REFERENCES tenant_services (service_id),
    tenant_id        TEXT NOT NULL REFERENCES tenants (tenant_id),
    container_port   INTEGER NOT NULL,
    protocol         TEXT NOT NULL,
    port_alias       TEXT NOT NULL,
    is_inner_service INTEGER NOT NULL DEFAULT 0,
    is_outer_service INTEGER NOT NULL DEFAULT 0,
    k8s_service_name TEXT NOT NULL,
    PRIMARY KEY (service_id, container_port)
);
CREATE INDEX service_ports_k8s_name ON service_ports (tenant_id, k8s_service_name);

CREATE TABLE service_envs (
    id             INTEGER PRIMARY KEY,
    service_id     TEXT NOT NULL REFERENCES tenant_services (service_id),
    tenant_id      TEXT NOT NULL REFERENCES tenants (tenant_id),
    -- 0 for variables that belong to no port.
    container_port INTEGER NOT NULL DEFAULT 0,
    name           TEXT NOT NULL DEFAULT '',
    attr_name      TEXT NOT NULL,
    attr_value     TEXT NOT NULL,
    is_change      INTEGER NOT NULL DEFAULT 1,
    -- inner, outer or build.
    scope          TEXT NOT NULL DEFAULT 'inner'
);
CREATE INDEX service_envs_service ON service_envs (service_id);

CREATE TABLE service_volumes (
    id              INTEGER PRIMARY KEY,
    service_id      TEXT NOT NULL REFERENCES tenant_services (service_id),
    volume_name     TEXT NOT NULL,
    volume_path     TEXT NOT NULL,
    volume_type     TEXT NOT NULL,
    volume_capacity INTEGER NOT NULL DEFAULT 0,
    access_mode     TEXT NOT NULL DEFAULT 'RWO',
    host_path       TEXT NOT NULL,
    UNIQUE (service_id, volume_name)
);

CREATE TABLE service_config_files (
    id           INTEGER PRIMARY KEY,
    service_id   TEXT NOT NULL REFERENCES tenant_services (service_id),
    volume_id    INTEGER NOT NULL REFERENCES service_volumes (id),
    volume_name  TEXT NOT NULL,
    file_content TEXT NOT NULL
);

CREATE TABLE service_labels (
    id          INTEGER PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES tenant_services (service_id),
    tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
    region      TEXT NOT NULL,
    label_name  TEXT NOT NULL,
    label_value TEXT NOT NULL
);

-- "service_id depends on dep_service_id".
CREATE TABLE service_dependencies (
    service_id     TEXT NOT NULL REFERENCES tenant_services (service_id),
    dep_service_id TEXT NOT NULL REFERENCES tenant_services (service_id),
    tenant_id      TEXT NOT NULL REFERENCES tenants (tenant_id),
    dep_order      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, dep_service_id)
);

-- Health probes: never copied.
CREATE TABLE service_probes (
    id         INTEGER PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES tenant_services (service_id),
    mode       TEXT NOT NULL,
    scheme     TEXT NOT NULL,
    port       INTEGER NOT NULL,
    path       TEXT NOT NULL DEFAULT ''
);

-- Fixture files loaded into this database (`serve --demo`, `seed`).
CREATE TABLE applied_fixtures (
    name       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
