//! The hand-written half of the API: [`CopyService`] implements the generated [`Api`] trait with
//! the copy semantics of the Rainbond console, minus its quirks:
//!
//! - the caller must be a member of the source team (403), not just of the enterprise;
//! - the source app is looked up in the URL's team and region; an unknown or non-numeric
//!   `app_id` is 404 (the console answers 500);
//! - the target team must be initialised in a usable target region, as the source is;
//! - the target app must be in the target region (400), not only in the target team;
//! - unknown, foreign or unfinished component ids are 404 naming them (the console answers 500);
//! - `Bearer <key>` is accepted as well as the bare key; keys are stored hashed;
//! - `change` is read-only and ignored; build-source credentials are never returned.
//! - a clashing port service name gets a checked random `-xxxx` suffix (two draws), then
//!   `-<new alias>`, never an unchecked duplicate nor a port name of the copied components (so a
//!   second host-name remap changes nothing); a renamed host is not renamed again by a later
//!   rename of the same batch (the console applies its renames one after the other).
//! - a copy may carry an `Idempotency-Key` (the console has none): the same key and request
//!   answer the first copy again, another request with the key is 422, and a key still being
//!   copied on another instance is 409 ([`crate::idempotency`]).

use std::time::Duration;

use axum::http::StatusCode;

use crate::access_key;
use crate::clock;
use crate::copy::{MAX_COPY_COMPONENTS, SelectionError, Target};
use crate::error::{ApiError, code};
use crate::idempotency;
use crate::model::{App, Component, Team, User};
use crate::store::{
    CopyError, CopyOutcome, CopyRequest, KeyedCopy, Place, Repository, Scope, ScopeNames, Side, StoredAnswer,
};
use rainbond_api::api::{
    Api, AuthFailure, CopyAppHeader, CopyAppPath, CopyAppResponse, ListCopyServicesPath, ListCopyServicesResponse,
    Rejection, RejectionKind,
};
use rainbond_api::models::{AppCopyC, AppCopyCRes, AppCopyL, ComponentBuildSource, ErrorBody, ServiceBaseInfo};

/// The API over a storage backend.
#[derive(Debug, Clone)]
pub struct CopyService<R> {
    store: R,
    /// How long the answer of a keyed copy is remembered.
    idempotency_ttl: Duration,
}

impl<R: Repository> CopyService<R> {
    /// Serves the API from `store`, remembering keyed copies for [`idempotency::DEFAULT_TTL`].
    pub fn new(store: R) -> Self {
        CopyService { store, idempotency_ttl: idempotency::DEFAULT_TTL }
    }

    /// Remembers the answers of keyed copies for `ttl` (whole seconds; at least one).
    pub fn with_idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// The storage backend.
    pub fn store(&self) -> &R {
        &self.store
    }

    /// Looks up what a request names in one store call: the URL's team, region and app, and the
    /// body's for a copy.
    async fn scope(
        &self,
        caller: &User,
        path: (&str, &str, &str),
        target: Option<&AppCopyC>,
    ) -> Result<Scope, ApiError> {
        let (team_id, region_name, app_id) = path;
        let names = ScopeNames {
            caller,
            source: Place { team: team_id, region: region_name, app_id: app_id.parse().ok() },
            target: target.map(|body| Place {
                team: &body.target_team_name,
                region: &body.target_region_name,
                app_id: Some(body.target_app_id),
            }),
        };
        Ok(self.store.scope(&names).await?)
    }
}

/// The source team and app of a request: the team (by id or name) in the caller's enterprise,
/// which the caller is a member of, initialised in the URL's region, and the app of that team and
/// region.
fn source(found: Side, region_name: &str) -> Result<(Team, App), ApiError> {
    let team = found.team.ok_or_else(|| ApiError::new(code::NOT_FOUND, "the team is not found", "团队不存在"))?;
    if !found.member {
        return Err(ApiError::new(code::FORBIDDEN, "the user is not a member of the team", "用户不是该团队的成员"));
    }
    let region =
        found.region.ok_or_else(|| ApiError::new(code::REGION_NOT_FOUND, "the region is not found", "集群不存在"))?;
    if !region.is_usable() || !found.team_in_region {
        return Err(ApiError::new(
            code::TEAM_NOT_IN_REGION,
            "the team is not initialized in the region",
            "团队未开通该集群",
        ));
    }
    let app_not_found = || ApiError::new(code::APP_NOT_FOUND, "the app is not found", "应用不存在");
    let app = found.app.ok_or_else(app_not_found)?;
    if app.tenant_id != team.tenant_id || app.region_name != region_name {
        return Err(app_not_found());
    }
    Ok((team, app))
}

/// The target team, region and app of a copy: a team of the caller, initialised in a usable
/// region, and an app of that team in that region.
fn target(found: Side) -> Result<(Team, App), ApiError> {
    let team_not_found = || {
        ApiError::new(
            code::NOT_FOUND,
            "the target team is not found, or it has not joined the region",
            "目标团队不存在，或团队未加入该数据中心",
        )
    };
    let team = found.team.ok_or_else(team_not_found)?;
    let region = found.region.ok_or_else(team_not_found)?;
    if !region.is_usable() || !found.team_in_region {
        return Err(team_not_found());
    }
    let app =
        found.app.ok_or_else(|| ApiError::new(code::NOT_FOUND, "the target app is not found", "目标应用不存在"))?;
    if app.tenant_id != team.tenant_id {
        return Err(ApiError::bad_request(
            "the target app does not belong to the target team",
            "目标应用不属于目标团队",
        ));
    }
    if app.region_name != region.region_name {
        return Err(ApiError::bad_request("the target app is not in the target region", "目标应用不在目标集群"));
    }
    Ok((team, app))
}

impl<R: Repository> CopyService<R> {
    async fn copy(
        &self,
        caller: &User,
        path: &CopyAppPath,
        header: &CopyAppHeader,
        body: AppCopyC,
    ) -> Result<AppCopyCRes, ApiError> {
        let key = header.idempotency_key.as_deref().map(idempotency::checked_key).transpose().map_err(|error| {
            ApiError::bad_request(
                error.to_string(),
                "幂等键 (Idempotency-Key) 格式错误：1 至 255 个字符 A-Z a-z 0-9 - _ . :",
            )
        })?;
        let fingerprint = key.map(|_| idempotency::fingerprint("POST", &copy_path(path), &body));
        let scope = self.scope(caller, (&path.team_id, &path.region_name, &path.app_id), Some(&body)).await?;
        let (source_team, source_app) = source(scope.source, &path.region_name)?;
        let (target_team, target_app) = target(scope.target)?;
        let requested: Vec<String> = body.services.into_iter().map(|s| s.service_id).collect();
        let now = clock::now_text();
        let now_unix = clock::now_unix();
        let idempotency = key.zip(fingerprint.as_deref()).map(|(key, fingerprint)| KeyedCopy {
            user_id: caller.user_id,
            key,
            fingerprint,
            now: now_unix,
            expires_at: now_unix.saturating_add(i64::try_from(self.idempotency_ttl.as_secs()).unwrap_or(i64::MAX)),
            answer_body,
        });
        let request = CopyRequest {
            source_app: &source_app,
            requested: &requested,
            target: Target {
                team: &target_team,
                region: &body.target_region_name,
                app: &target_app,
                creater: caller.user_id,
                now: &now,
                same_team: source_team.tenant_id == target_team.tenant_id,
                same_region: path.region_name == body.target_region_name,
            },
            idempotency,
        };
        let outcome = self.store.copy_components(request).await.map_err(|error| match error {
            CopyError::Selection(SelectionError::UnknownComponents(ids)) => {
                let ids: Vec<&str> = ids.iter().map(|id| shortened(id)).collect();
                ApiError::new(
                    code::NOT_FOUND,
                    format!("components not found in the source app, or not complete: {}", ids.join(", ")),
                    format!("组件不存在或尚未创建完成：{}", ids.join("、")),
                )
            }
            CopyError::Selection(SelectionError::PackageBuild(names)) => ApiError::bad_request(
                format!("package_build components do not support quick copy: {}", names.join(", ")),
                format!("上传软件包创建的组件暂不支持快速复制：{}", names.join("、")),
            ),
            CopyError::Selection(error @ SelectionError::TooMany(_)) => {
                ApiError::bad_request(error.to_string(), format!("一次最多复制 {MAX_COPY_COMPONENTS} 个组件"))
            }
            CopyError::Plan(error) => ApiError::internal(&error),
            CopyError::Store(error) => error.into(),
            CopyError::Contended { .. } => {
                crate::metrics::global().copy_contended();
                ApiError::contended(&error)
            }
            CopyError::KeyReused => ApiError::new(
                code::IDEMPOTENCY_KEY_REUSED,
                "the Idempotency-Key was already used for another request",
                "该幂等键已用于其他请求",
            ),
            CopyError::KeyInProgress => ApiError::new(
                code::IDEMPOTENCY_KEY_IN_PROGRESS,
                "a copy with the same Idempotency-Key is still running; retry later",
                "相同幂等键的复制仍在进行中，请稍后重试",
            ),
        })?;
        match outcome {
            CopyOutcome::Copied(copies) => {
                crate::metrics::global().copied(copies.len());
                tracing::info!(
                    user = caller.user_id,
                    source_app = source_app.app_id,
                    target_app = target_app.app_id,
                    components = copies.len(),
                    "copied components"
                );
                Ok(copy_answer(&copies))
            }
            CopyOutcome::Replayed(answer) => {
                tracing::info!(user = caller.user_id, target_app = target_app.app_id, "answered a repeated copy");
                replayed(&answer)
            }
        }
    }

    async fn list(&self, caller: &User, path: &ListCopyServicesPath) -> Result<Vec<AppCopyL>, ApiError> {
        let scope = self.scope(caller, (&path.team_id, &path.region_name, &path.app_id), None).await?;
        let (_, app) = source(scope.source, &path.region_name)?;
        let components = self.store.app_components(app.app_id).await?;
        Ok(components.iter().map(|c| copyable_component(c, &app)).collect())
    }
}

impl<R: Repository> Api for CopyService<R> {
    type Caller = User;

    async fn authenticate_access_key(&self, credential: Option<&str>) -> Result<User, AuthFailure<ErrorBody>> {
        let key = credential.map(strip_bearer).unwrap_or_default();
        if key.is_empty() {
            return Err(AuthFailure::Unauthorized(ApiError::unauthorized("No token", "未提供访问令牌").body));
        }
        match self.store.user_by_access_key(access_key::digest(key), clock::now_unix()).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(AuthFailure::Unauthorized(
                ApiError::unauthorized("the access key is unknown or expired", "访问令牌无效或已过期").body,
            )),
            Err(error) => {
                let error = ApiError::from(error);
                Err(if error.status == StatusCode::SERVICE_UNAVAILABLE {
                    AuthFailure::Unavailable(error.body)
                } else {
                    AuthFailure::Failed(error.body)
                })
            }
        }
    }

    fn rejection_body(&self, rejection: &Rejection) -> ErrorBody {
        let (code, msg_show) = match rejection.kind {
            RejectionKind::Path
            | RejectionKind::Query
            | RejectionKind::Header
            | RejectionKind::MissingBody
            | RejectionKind::InvalidBody
            | RejectionKind::NotAnUpgrade => (code::INVALID_REQUEST, "请求参数错误"),
            RejectionKind::UnsupportedMediaType => (code::UNSUPPORTED_MEDIA_TYPE, "请求体必须是 JSON"),
            RejectionKind::BodyTooLarge => (code::BODY_TOO_LARGE, "请求体过大"),
            RejectionKind::NotFound => (code::NOT_FOUND, "资源不存在"),
            RejectionKind::MethodNotAllowed => (code::METHOD_NOT_ALLOWED, "不支持该请求方法"),
        };
        ErrorBody { code: code.code, msg: rejection.message.clone(), msg_show: msg_show.to_owned() }
    }

    async fn list_copy_services(&self, caller: User, path: ListCopyServicesPath) -> ListCopyServicesResponse {
        match self.list(&caller, &path).await {
            Ok(components) => ListCopyServicesResponse::Ok(components),
            Err(error) => ListCopyServicesResponse::error(error.status, error.body)
                .unwrap_or_else(|body| ListCopyServicesResponse::InternalServerError(undocumented(error.status, body))),
        }
    }

    async fn copy_app(
        &self,
        caller: User,
        path: CopyAppPath,
        header: CopyAppHeader,
        body: AppCopyC,
    ) -> CopyAppResponse {
        match self.copy(&caller, &path, &header, body).await {
            Ok(copies) => CopyAppResponse::Ok(copies),
            Err(error) => CopyAppResponse::error(error.status, error.body)
                .unwrap_or_else(|body| CopyAppResponse::InternalServerError(undocumented(error.status, body))),
        }
    }
}

/// The copy's answer: the new components.
fn copy_answer(copies: &[Component]) -> AppCopyCRes {
    AppCopyCRes { services: copies.iter().map(service_base_info).collect() }
}

/// The body of [`copy_answer`], as remembered with an idempotency key.
fn answer_body(copies: &[Component]) -> String {
    serde_json::to_string(&copy_answer(copies)).expect("the answer serialises")
}

/// The answer remembered with an idempotency key, answered again.
fn replayed(answer: &StoredAnswer) -> Result<AppCopyCRes, ApiError> {
    match serde_json::from_str(&answer.body) {
        Ok(body) if answer.status == 200 => Ok(body),
        Ok(_) => {
            tracing::error!(status = answer.status, "an idempotency key remembers an answer that is not 200");
            Err(ApiError::server_error())
        }
        Err(error) => Err(ApiError::internal(&error)),
    }
}

/// The path of a copy request, as the fingerprint of a keyed copy takes it.
fn copy_path(path: &CopyAppPath) -> String {
    format!("/openapi/v1/teams/{}/regions/{}/apps/{}/copy", path.team_id, path.region_name, path.app_id)
}

/// An error whose status the operation does not document: a bug, logged and answered as a
/// server error.
fn undocumented(status: StatusCode, body: ErrorBody) -> ErrorBody {
    tracing::error!(%status, ?body, "an error status the spec does not document for this operation");
    ApiError::server_error().body
}

/// Longest request value an error message repeats; longer ones are cut (a component id has 32
/// characters).
const MAX_ECHOED_CHARS: usize = 64;

/// `value`, cut to [`MAX_ECHOED_CHARS`] characters.
fn shortened(value: &str) -> &str {
    value.char_indices().nth(MAX_ECHOED_CHARS).map_or(value, |(end, _)| &value[..end])
}

/// The key of an `Authorization` value: verbatim, or after a `Bearer ` prefix.
fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
        _ => value,
    }
}

/// A copied component as the copy answers it (`status` and `access_infos` are always empty, as in
/// the console).
pub fn service_base_info(c: &Component) -> ServiceBaseInfo {
    ServiceBaseInfo {
        status: Some(String::new()),
        access_infos: Some(Vec::new()),
        service_id: c.service_id.clone(),
        tenant_id: c.tenant_id.clone(),
        service_key: c.service_key.clone(),
        service_alias: c.service_alias.clone(),
        service_cname: Some(c.service_cname.clone()),
        service_region: c.service_region.clone(),
        desc: Some(c.desc.clone()),
        category: c.category.clone(),
        version: c.version.clone(),
        update_version: Some(c.update_version),
        image: c.image.clone(),
        cmd: Some(c.cmd.clone()),
        min_node: Some(c.min_node),
        min_cpu: Some(c.min_cpu),
        container_gpu: Some(c.container_gpu),
        min_memory: Some(c.min_memory),
        extend_method: Some(c.extend_method.clone()),
        code_from: Some(c.code_from.clone()),
        git_url: Some(c.git_url.clone()),
        git_project_id: Some(c.git_project_id),
        code_version: Some(c.code_version.clone()),
        service_type: Some(c.service_type.clone()),
        creater: Some(c.creater),
        language: Some(c.language.clone()),
        total_memory: Some(c.total_memory),
        is_service: Some(c.is_service),
        service_origin: Some(c.service_origin.clone()),
        tenant_service_group_id: Some(c.tenant_service_group_id),
        open_webhooks: Some(c.open_webhooks),
        service_source: Some(c.service_source.clone()),
        create_status: Some(c.create_status.clone()),
        check_uuid: Some(c.check_uuid.clone()),
        check_event_id: Some(c.check_event_id.clone()),
        docker_cmd: Some(c.docker_cmd.clone()),
        server_type: Some(c.server_type.clone()),
        is_upgrate: Some(c.is_upgrate),
        build_upgrade: Some(c.build_upgrade),
        oauth_service_id: Some(c.oauth_service_id),
        k8s_component_name: c.k8s_component_name.clone(),
    }
}

/// A component as the listing answers it, with whether the copy accepts it.
pub fn copyable_component(c: &Component, app: &App) -> AppCopyL {
    let not_copyable_reason = if !c.is_complete() {
        Some(format!("the component is not complete (create_status: {})", c.create_status.as_deref().unwrap_or("null")))
    } else if c.is_package_build() {
        Some("components built from an uploaded package cannot be copied".to_owned())
    } else {
        None
    };
    let source = c.service_source.clone().unwrap_or_default();
    let mut build_source = ComponentBuildSource {
        service_source: source.clone(),
        version: Some(c.version.clone()),
        language: c.language.clone(),
        code_from: c.code_from.clone(),
        image: None,
        docker_cmd: None,
        code_version: None,
        git_url: None,
        full_name: None,
        oauth_service_id: None,
        rain_app_name: None,
    };
    match source.as_str() {
        "docker_image" => {
            build_source.image = Some(Some(c.image.clone()));
            build_source.docker_cmd = Some(c.docker_cmd.clone());
        }
        "source_code" => {
            build_source.code_version = Some(c.code_version.clone());
            build_source.git_url = Some(c.git_url.clone());
            build_source.full_name = Some(c.git_full_name.clone());
            build_source.oauth_service_id = Some(c.oauth_service_id);
        }
        "market" => build_source.rain_app_name = Some(None),
        _ => {}
    }
    AppCopyL {
        build_source,
        update_time: c.update_time.clone(),
        deploy_version: c.deploy_version.clone(),
        create_status: c.create_status.clone(),
        service_alias: c.service_alias.clone(),
        service_cname: c.service_cname.clone(),
        version: Some(c.version.clone()),
        service_type: c.service_type.clone(),
        service_id: c.service_id.clone(),
        app_name: Some(app.app_name.clone()),
        min_memory: (i64::from(c.min_memory) * i64::from(c.min_node)).to_string(),
        copyable: not_copyable_reason.is_none(),
        not_copyable_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::{shortened, strip_bearer};

    #[test]
    fn long_values_are_cut_in_messages() {
        assert_eq!(shortened("0a1b2c3d4e5f40718293a4b5c6d7e8f1"), "0a1b2c3d4e5f40718293a4b5c6d7e8f1");
        assert_eq!(shortened(&"组".repeat(100)), "组".repeat(64));
    }

    #[test]
    fn the_key_is_taken_verbatim_or_after_bearer() {
        assert_eq!(strip_bearer("rbd-demo-admin"), "rbd-demo-admin");
        assert_eq!(strip_bearer("Bearer rbd-demo-admin"), "rbd-demo-admin");
        assert_eq!(strip_bearer("bearer  rbd-demo-admin "), "rbd-demo-admin");
        assert_eq!(strip_bearer("Token rbd-demo-admin"), "Token rbd-demo-admin");
    }
}
