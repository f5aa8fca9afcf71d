//! `/api/session`: log in (sets the session cookie), who am I, log out.

use super::NoContent;
use crate::audit::{AuditLog, Event};
use crate::auth::limiter::Refused;
use crate::auth::{
    self, Auth, Caller, Principal, RequestMeta, password, random_token, session_cookie, token_hash,
};
use crate::clock::{now_ms, rfc3339};
use crate::error::{ApiError, ApiJson, Code};
use crate::metrics::Metrics;
use crate::store::NewSession;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use hermod_shared::console::{Login, SessionInfo};
use serde_json::json;
use std::sync::Arc;

fn info(caller: &Caller) -> SessionInfo {
    SessionInfo {
        user: caller.name.clone(),
        role: caller.role,
        csrf_token: match &caller.principal {
            Principal::Session { csrf_token, .. } => Some(csrf_token.clone()),
            Principal::Token { .. } => None,
        },
        expires_at: rfc3339(caller.expires_at),
    }
}

pub async fn login(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    State(auth): State<Arc<Auth>>,
    State(metrics): State<Arc<Metrics>>,
    meta: RequestMeta,
    headers: HeaderMap,
    ApiJson(login): ApiJson<Login>,
) -> Result<([(HeaderName, HeaderValue); 1], Json<SessionInfo>), ApiError> {
    // Logging in from another site's page would plant that site's session here (login CSRF).
    if !auth::same_origin(&auth, &headers) {
        return Err(ApiError::new(
            Code::Csrf,
            "log in from the console's own page",
        ));
    }
    let username = login.username.trim().to_string();
    // Before any work: what no account can be named is neither counted, audited nor kept.
    super::users::check_username(&username)?;
    let delay = match auth.limiter.attempt(&username, &meta.source).await {
        Ok(delay) => delay,
        Err(Refused::Store(e)) => return Err(e.into()),
        Err(Refused::Wait(wait)) => {
            audit
                .record(
                    &meta,
                    None,
                    Event::ok("login", username.clone())
                        .outcome("denied")
                        .detail(json!({"reason": "too many failed logins"}))
                        .by(&username),
                )
                .await;
            let secs = wait.as_secs().max(1);
            return Err(ApiError::new(
                Code::TooManyAttempts,
                format!("too many failed logins; try again in {secs} s"),
            )
            .retry_after(secs));
        }
    };
    // Failures from elsewhere slow this account down; they never lock it.
    tokio::time::sleep(delay).await;
    let found = store.user_by_name(username.clone()).await?;
    let stored = found.as_ref().map(|(_, hash)| hash.clone());
    let ok = password::verify(login.password, stored, auth.cost).await;
    let (user, true) = (found.map(|(u, _)| u), ok) else {
        metrics.logins_failed.inc();
        audit
            .record(
                &meta,
                None,
                Event::ok("login", username.clone())
                    .outcome("failed")
                    .by(&username),
            )
            .await;
        return Err(ApiError::new(
            Code::InvalidCredentials,
            "wrong username or password",
        ));
    };
    let user = user.expect("verified against a stored hash, so the user exists");
    auth.limiter.succeeded(&username, &meta.source).await;
    let token = random_token();
    let csrf = random_token();
    let now = now_ms();
    let expires_at = now + auth.absolute_ms;
    store
        .create_session(NewSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: csrf.clone(),
            expires_at,
            source: meta.source.clone(),
        })
        .await?;
    let caller = Caller {
        name: user.username.clone(),
        role: user.role,
        principal: Principal::Session {
            user_id: user.id,
            token_hash: token_hash(&token),
            csrf_token: csrf,
        },
        expires_at: expires_at.min(now + auth.idle_ms),
    };
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("login", user.username.clone()),
        )
        .await;
    let cookie = session_cookie(&token, auth.absolute_ms / 1000, auth.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Json(info(&caller))))
}

pub async fn whoami(caller: Caller) -> Json<SessionInfo> {
    Json(info(&caller))
}

pub async fn logout(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    State(auth): State<Arc<Auth>>,
    meta: RequestMeta,
    caller: Caller,
) -> Result<([(HeaderName, HeaderValue); 1], NoContent), ApiError> {
    if let Principal::Session { token_hash, .. } = &caller.principal {
        store.revoke_session(token_hash.clone()).await?;
    }
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("logout", caller.name.clone()),
        )
        .await;
    let cookie = session_cookie("", 0, auth.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], NoContent))
}
