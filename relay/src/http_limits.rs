//! The API's request limits, as tower layers around `/api`: a request rate per client address
//! (IPv6 by its /64, as connections are counted) over which requests get 429, a cap on requests
//! answered at once over which they get 503 straight away rather than queueing, a deadline on
//! each request, its body included, answered with 408, and the largest body read (413, from the
//! body extractor). Every refusal is the API's JSON error.

use crate::admission::address_group;
use crate::api::ApiError;
use crate::driver::Driver;
use crate::limits::{API_RATE_FORGET_INTERVAL, Limits};
use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

/// `router` (the API) with the limits in `limits` around every route. The concurrency cap and
/// the rate table are shared by all routes.
pub fn guard(router: Router<Arc<Driver>>, limits: &Limits) -> Router<Arc<Driver>> {
    let per_s = limits.api_requests_per_s_max.max(1);
    let config = GovernorConfigBuilder::default()
        .key_extractor(AddressGroup)
        .period(Duration::from_secs(1) / per_s)
        .burst_size(limits.api_request_burst_max.max(1))
        .finish()
        .expect("period and burst are positive");
    // Addresses whose budget is full again are forgotten, so the table holds recent clients only.
    let limiter = Arc::downgrade(config.limiter());
    every_forget_interval(move || {
        let Some(limiter) = limiter.upgrade() else { return false };
        limiter.retain_recent();
        limiter.shrink_to_fit();
        true
    });
    let rate = GovernorLayer::new(config).error_handler(rate_refusal);
    let in_flight = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overload_refusal))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.api_requests_in_flight_max.max(1)))
        .timeout(limits.api_request_timeout);
    let announced = axum::middleware::from_fn_with_state(limits.api_body_bytes_max, announced_length);
    router.layer(DefaultBodyLimit::max(limits.api_body_bytes_max)).layer(announced).layer(in_flight).layer(rate)
}

/// 413 for a body whose `Content-Length` is over `body_bytes_max`, before reading any of it. (A
/// body sent without a length is cut off at the same limit as it is read: `DefaultBodyLimit`.)
async fn announced_length(
    axum::extract::State(body_bytes_max): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response<Body> {
    let announced = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > body_bytes_max as u64) {
        let reason = format!("body too large: at most {body_bytes_max} bytes");
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, reason).into_response();
    }
    next.run(request).await
}

/// The key requests are counted under: the client's address group.
#[derive(Debug, Clone, Copy)]
struct AddressGroup;

impl KeyExtractor for AddressGroup {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        let ConnectInfo(addr) =
            request.extensions().get::<ConnectInfo<SocketAddr>>().ok_or(GovernorError::UnableToExtractKey)?;
        Ok(address_group(addr.ip()))
    }
}

/// Runs `forget` every `API_RATE_FORGET_INTERVAL` until it returns false (its limiter is gone). A
/// router built outside a runtime forgets nothing.
fn every_forget_interval(mut forget: impl FnMut() -> bool + Send + 'static) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(API_RATE_FORGET_INTERVAL).await;
            if !forget() {
                return;
            }
        }
    });
}

/// 429 with `Retry-After`, for a client over its rate.
fn rate_refusal(error: GovernorError) -> Response<Body> {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            // Whole seconds, rounded down by the limiter: wait at least one.
            let wait_s = wait_time.max(1);
            let reason = format!("too many requests from this address; retry in {wait_s} s");
            let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, reason).into_response();
            if let Ok(value) = HeaderValue::from_str(&wait_s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        GovernorError::UnableToExtractKey => {
            tracing::error!("an API request without its client address");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no client address").into_response()
        }
        GovernorError::Other { code, msg, .. } => {
            ApiError::new(code, msg.unwrap_or_else(|| "refused".into())).into_response()
        }
    }
}

/// 503 when the API is answering as many requests as it may, 408 when one ran out of time.
async fn overload_refusal(error: tower::BoxError) -> ApiError {
    if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too many requests in flight; retry shortly")
    } else if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(StatusCode::REQUEST_TIMEOUT, "the request took too long")
    } else {
        tracing::error!("an API request failed: {error}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected: {error}"))
    }
}
