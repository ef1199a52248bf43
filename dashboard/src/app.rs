//! What every handler shares: the connection pool and the live channel
//! (`App`), one query with bound parameters, and errors as the page sees
//! them: the database's, unchanged, `{"code", "message", "detail", "hint"}`
//! (every message is Chronicle's core's; the server writes none of its
//! own, but for an unreachable database).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use deadpool_postgres::Pool;
use serde_json::{json, Value};
use tokio_postgres::types::ToSql;

use crate::live::Live;

#[derive(Clone)]
pub struct App {
    pub pool: Pool,
    pub live: Live,
}

/// An error as the page sees it.
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> ApiError {
        let Some(db) = e.as_db_error() else {
            return ApiError::unavailable(&e.to_string());
        };
        let code = db.code().code();
        let status = match code {
            "42704" => StatusCode::NOT_FOUND,
            c if c.starts_with("22") || c.starts_with("23") => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            body: json!({"code": code, "message": db.message(), "detail": db.detail(), "hint": db.hint()}),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> ApiError {
        ApiError::unavailable(&e.to_string())
    }
}

impl ApiError {
    fn unavailable(message: &str) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: json!({"code": "08006", "message": format!("the database is not reachable: {message}"),
                         "hint": "Check that Postgres runs and the --database URL is right."}),
        }
    }
}

impl ApiError {
    /// The JSON body: `{"code", "message", "detail", "hint"}`.
    pub fn into_body(self) -> Value {
        self.body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Runs one query and returns its rows.
pub async fn query(
    app: &App,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> ApiResult<Vec<tokio_postgres::Row>> {
    let client = app.pool.get().await?;
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query(&statement, params).await?)
}
