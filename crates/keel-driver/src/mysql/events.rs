//! MySQL/MariaDB events: read from `information_schema.EVENTS` and rebuilt as the statement
//! that creates each, every clause spelled out, so that two events compare equal exactly when
//! they run the same body on the same schedule.

use super::introspect::string_literal as literal;
use crate::DriverError;
use keel_core::schema::Event;
use sqlx::mysql::MySqlConnection;
use sqlx::Row;

const EVENTS: &str = include_str!("introspect/events.sql");

/// The parts of an event, as `information_schema.EVENTS` gives them.
pub(super) struct EventParts<'a> {
    pub name: &'a str,
    /// `ONE TIME` or `RECURRING`.
    pub event_type: &'a str,
    pub execute_at: Option<&'a str>,
    pub interval_value: Option<&'a str>,
    pub interval_field: Option<&'a str>,
    pub ends: Option<&'a str>,
    /// `ENABLED`, `DISABLED`, `SLAVESIDE_DISABLED`.
    pub status: &'a str,
    /// `PRESERVE`, `NOT PRESERVE`.
    pub on_completion: &'a str,
    pub comment: &'a str,
    pub body: &'a str,
}

/// `CREATE EVENT `name` ON SCHEDULE {AT '…' | EVERY '…' FIELD [ENDS '…']} ON COMPLETION
/// [NOT] PRESERVE {ENABLE | DISABLE | DISABLE ON SLAVE} [COMMENT '…'] DO body`. A recurring
/// event's `STARTS` is left out: without one it is the creation time, which a replay never
/// repeats.
pub(super) fn event_statement(e: &EventParts<'_>) -> String {
    let schedule = if e.event_type.eq_ignore_ascii_case("ONE TIME") {
        format!("AT {}", literal(e.execute_at.unwrap_or_default()))
    } else {
        let mut s = format!(
            "EVERY {} {}",
            literal(e.interval_value.unwrap_or_default()),
            e.interval_field
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphabetic() || *c == '_')
                .collect::<String>()
        );
        if let Some(ends) = e.ends {
            s.push_str(&format!(" ENDS {}", literal(ends)));
        }
        s
    };
    let status = match e.status.to_ascii_uppercase().as_str() {
        "DISABLED" => "DISABLE",
        "SLAVESIDE_DISABLED" => "DISABLE ON SLAVE",
        _ => "ENABLE",
    };
    let completion = if e.on_completion.eq_ignore_ascii_case("PRESERVE") {
        "PRESERVE"
    } else {
        "NOT PRESERVE"
    };
    let comment = if e.comment.is_empty() {
        String::new()
    } else {
        format!(" COMMENT {}", literal(e.comment))
    };
    format!(
        "CREATE EVENT `{}` ON SCHEDULE {schedule} ON COMPLETION {completion} {status}{comment} DO {}",
        e.name.replace('`', "``"),
        e.body.trim()
    )
}

/// The events of the current database, by name; `qualifier` (`` `db`. ``) is dropped from
/// their bodies, as from routines', so that a shadow database's read the same.
///
/// # Errors
/// A server or connection error.
pub(super) async fn read_events(
    conn: &mut MySqlConnection,
    qualifier: &str,
) -> Result<Vec<Event>, DriverError> {
    let rows = sqlx::query(EVENTS)
        .fetch_all(&mut *conn)
        .await
        .map_err(DriverError::from_sqlx)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text = |i: usize| -> Result<Option<String>, DriverError> {
            r.try_get::<Option<String>, _>(i)
                .map_err(DriverError::from_sqlx)
        };
        let name = text(0)?.unwrap_or_default();
        let body = text(9)?.unwrap_or_default().replace(qualifier, "");
        let (event_type, execute_at, value, field, ends, status, completion, comment) = (
            text(1)?.unwrap_or_default(),
            text(2)?,
            text(3)?,
            text(4)?,
            text(5)?,
            text(6)?.unwrap_or_default(),
            text(7)?.unwrap_or_default(),
            text(8)?.unwrap_or_default(),
        );
        out.push(Event {
            definition: event_statement(&EventParts {
                name: &name,
                event_type: &event_type,
                execute_at: execute_at.as_deref(),
                interval_value: value.as_deref(),
                interval_field: field.as_deref(),
                ends: ends.as_deref(),
                status: &status,
                on_completion: &completion,
                comment: &comment,
                body: &body,
            }),
            name,
            state: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recurring_event_is_spelled_out_without_its_start() {
        let s = event_statement(&EventParts {
            name: "purge`s",
            event_type: "RECURRING",
            execute_at: None,
            interval_value: "1 2".into(),
            interval_field: Some("DAY_HOUR"),
            ends: Some("2030-01-01 00:00:00"),
            status: "DISABLED",
            on_completion: "NOT PRESERVE",
            comment: "it's old",
            body: " DELETE FROM t ",
        });
        assert_eq!(
            s,
            "CREATE EVENT `purge``s` ON SCHEDULE EVERY '1 2' DAY_HOUR ENDS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE DISABLE COMMENT 'it''s old' DO DELETE FROM t"
        );
    }
}
