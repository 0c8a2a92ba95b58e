//! The issuance office: what every use case needs (store, fonts, settings), built
//! once per process and shared by every transport.

use std::sync::Arc;
use std::time::Duration;

use kofu_render::FontBook;
use kofu_store::Store;

use crate::AppError;

/// Settings of the issuance service.
#[derive(Clone, Debug)]
pub struct OfficeSettings {
    /// The most a kiosk issuance may take; past it, everything is rolled back.
    pub issue_time_limit: Duration,
    /// How long a kiosk issuance may wait for its outcome notice before review flags it.
    pub outcome_window: Duration,
    /// Fault injection for tests: every render waits this long first.
    pub render_stall: Option<Duration>,
    /// A counter session unused this long is expired.
    pub session_idle: Duration,
    /// A counter session ends this long after its login, however busy.
    pub session_max: Duration,
    /// Look-ups (searches and previews) by one member of staff in one day past which
    /// the supervisor's report flags them.
    pub lookup_alert: u32,
    /// How many serials one offline range reserves for a terminal.
    pub offline_range_size: u32,
    /// The bounds of offline work handed to terminals.
    pub offline_limits: crate::offline::OfflineLimits,
    /// Set on a terminal's office while it works offline on its replica.
    pub offline: Option<crate::offline::OfflineTerminal>,
    /// How far a kiosk request's `requested_at` may be from the server's clock;
    /// `None` takes the center's clock as it is (tests replaying fixed instants).
    /// `kofu serve` sets 300 s unless told otherwise (`--max-clock-skew-secs`).
    pub max_clock_skew: Option<Duration>,
    /// After the second consecutive failed login on an account, the next attempt on it
    /// waits this long, doubling with each further failure, until the lockout: guesses
    /// spread over many sources are slowed down on the account itself. Zero: no wait.
    pub login_backoff: Duration,
    /// Whether terminals' replicas carry residents' 個人番号, so that a 住民票 with
    /// 個人番号 can be issued offline. Off unless the administrator allows it.
    pub offline_my_number: bool,
}

impl Default for OfficeSettings {
    fn default() -> Self {
        OfficeSettings {
            issue_time_limit: Duration::from_secs(3),
            outcome_window: Duration::from_secs(600),
            render_stall: None,
            session_idle: Duration::from_secs(15 * 60),
            session_max: Duration::from_secs(10 * 60 * 60),
            lookup_alert: 100,
            offline_range_size: 500,
            offline_limits: crate::offline::OfflineLimits::default(),
            offline: None,
            max_clock_skew: None,
            login_backoff: Duration::from_secs(5),
            offline_my_number: false,
        }
    }
}

/// The town's issuance office: the store, the fonts, the settings and the
/// installation's secret. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Office {
    /// The store.
    pub store: Store,
    /// The fonts certificates are set in.
    pub fonts: Arc<FontBook>,
    /// Settings.
    pub settings: OfficeSettings,
    /// The installation's secret (kiosk member tokens).
    pub(crate) secret: String,
    /// Failed logins per source, shared by the office's clones.
    pub(crate) login_throttle: Arc<crate::staff::LoginThrottle>,
}

impl Office {
    /// Records a failure staff must review (see [`AppError::needs_review`]) as an
    /// audit entry `action` by `actor` about `target`, and hands the error back. The
    /// entry says what failed (code and message: the field and the character), never
    /// any certificate content. If even the entry cannot be written, the log says so.
    pub(crate) async fn alert(
        &self,
        error: AppError,
        action: &str,
        actor: &str,
        target: &str,
        context: serde_json::Value,
        now: time::OffsetDateTime,
    ) -> AppError {
        if !error.needs_review() {
            return error;
        }
        let mut detail = context;
        detail["code"] = serde_json::json!(error.code());
        detail["message"] = serde_json::json!(error.to_string());
        let entry = kofu_store::AuditEntry {
            at: crate::kiosk::rfc3339(now),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_string(),
        };
        if let Err(e) = self.store.record_audit(entry).await {
            tracing::error!(error = %e, action, "cannot record the alert of a failed issuance");
        }
        error
    }

    /// Builds the office over a store; `fresh_secret` becomes the installation's secret
    /// if it has none yet (pass a random value).
    pub async fn new(
        store: Store,
        fonts: Arc<FontBook>,
        settings: OfficeSettings,
        fresh_secret: &str,
    ) -> Result<Office, AppError> {
        let secret = store.server_secret(fresh_secret).await?;
        Ok(Office {
            store,
            fonts,
            settings,
            secret,
            login_throttle: Arc::default(),
        })
    }
}
