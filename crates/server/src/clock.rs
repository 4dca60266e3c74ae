//! The current time, as stored (`YYYY-MM-DD HH:MM:SS`, UTC) and as unix seconds.

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, as the console stores times: `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
        .expect("a fixed format always applies")
}

/// Now, in unix seconds.
pub fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
