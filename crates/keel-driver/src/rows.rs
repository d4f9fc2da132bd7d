//! Reading result rows as text, for [`crate::Driver::query_text`].

use sqlx::{Decode, Row, Type};

/// Every value of `row` as text: text columns as they are, integers and floats printed, NULL
/// as `None`. A column of any other type reads as `None` (callers cast to text in SQL).
pub(crate) fn row_text<R>(row: &R) -> Vec<Option<String>>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                return v;
            }
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return v.map(|v| v.to_string());
            }
            row.try_get::<Option<f64>, _>(i)
                .ok()
                .flatten()
                .map(|v| v.to_string())
        })
        .collect()
}
