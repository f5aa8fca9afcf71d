//! `/api/devices`: the phones, smart cards and certificate holders the console has seen named in
//! commands and their results (README.md, "Devices"); a device's commands and callbacks are the
//! lists' `device` filter.

use super::ListQuery;
use crate::error::{ApiError, ApiQuery};
use crate::store::{DeviceFilter, Store};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::ListPage;
use hermod_shared::devices::{DeviceDetail, DeviceRecord};
use std::sync::Arc;

/// Devices, the newest first; `q` is held by the key, `since`/`until` bound when it was last seen.
pub async fn list(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListPage<DeviceRecord>>, ApiError> {
    let query = q.common()?.query;
    Ok(Json(store.list_devices(DeviceFilter { query }).await?))
}

/// One device by its key (`profile:…`, `card:…`, `subject:…`), with the certificates it was seen with.
pub async fn one(
    State(store): State<Arc<dyn Store>>,
    Path(key): Path<String>,
) -> Result<Json<DeviceDetail>, ApiError> {
    store
        .device(key)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("device"))
}
