//! Checks on a database file after copies: uniqueness rules, completeness of copies, integrity.

use sqlx::SqlitePool;

/// The tables a copy writes rows into for each component, besides `tenant_services`.
pub const CHILD_TABLES: &[&str] = super::ATTACHED_TABLES.split_at(6).0;

/// Opens the database file read-write (SQLite recovers a crashed WAL on open).
pub async fn open(database: &std::path::Path) -> SqlitePool {
    SqlitePool::connect(&format!("sqlite:{}", database.display())).await.unwrap()
}

/// `PRAGMA integrity_check`'s answer.
pub async fn integrity(pool: &SqlitePool) -> String {
    let (answer,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(pool).await.unwrap();
    answer
}

/// Violations of the documented uniqueness rules: aliases across the store, component names
/// within an app, port service names within a team (across components).
pub async fn uniqueness_violations(pool: &SqlitePool) -> Vec<String> {
    let queries = [
        ("alias", "SELECT service_alias FROM tenant_services GROUP BY service_alias HAVING count(*) > 1"),
        (
            "component name in an app",
            "SELECT app_id || '/' || k8s_component_name FROM tenant_services \
             GROUP BY app_id, k8s_component_name HAVING count(*) > 1",
        ),
        (
            "port service name in a team",
            "SELECT tenant_id || '/' || k8s_service_name FROM service_ports \
             GROUP BY tenant_id, k8s_service_name HAVING count(DISTINCT service_id) > 1",
        ),
    ];
    let mut violations = Vec::new();
    for (rule, query) in queries {
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(query)).fetch_all(pool).await.unwrap();
        violations.extend(rows.into_iter().map(|(value,)| format!("{rule}: {value}")));
    }
    violations
}

/// How many rows of each child table a component has, in [`CHILD_TABLES`] order.
pub async fn child_counts(pool: &SqlitePool, service_id: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in CHILD_TABLES {
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table} WHERE service_id = ?")))
                .bind(service_id)
                .fetch_one(pool)
                .await
                .unwrap();
        counts.push(n);
    }
    counts
}

/// `(service_id, service_cname)` of an app's components.
pub async fn components_of(pool: &SqlitePool, app_id: i32) -> Vec<(String, String)> {
    sqlx::query_as("SELECT service_id, service_cname FROM tenant_services WHERE app_id = ? ORDER BY service_id")
        .bind(app_id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The components `service_id` depends on.
pub async fn dependencies_of(pool: &SqlitePool, service_id: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT dep_service_id FROM service_dependencies WHERE service_id = ?")
        .bind(service_id)
        .fetch_all(pool)
        .await
        .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

/// Adds empty apps `ids` to team o19p6wen in region rainbond.
pub async fn add_apps(pool: &SqlitePool, ids: impl IntoIterator<Item = i32>) {
    for id in ids {
        sqlx::query(
            "INSERT INTO apps (app_id, tenant_id, region_name, app_name, governance_mode) \
             VALUES (?, ?, 'rainbond', ?, 'KUBERNETES_NATIVE_SERVICE')",
        )
        .bind(id)
        .bind(super::SHOP_TEAM_ID)
        .bind(format!("app-{id}"))
        .execute(pool)
        .await
        .unwrap();
    }
}
