//! From a parsed [`Query`] and the catalogue's view of one table to SQL text and parameters.
//!
//! Identifiers in the SQL come only from the catalogue (a name from the request is looked up
//! in the table's column list and the catalogue's spelling is quoted); every value from the
//! request is a bind parameter, cast to the column's type in SQL (`$n::text::"schema"."type"`).

use super::query::{Filter, Op, Order, Query, SelectItem};
use super::RestError;
use tokio_postgres::types::ToSql;

/// A column of the table, as `information_schema.columns` describes it.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    /// `"udt_schema"."udt_name"`, quoted, for casts.
    pub(crate) ty: String,
}

/// A table or view of the exposed schema.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub(crate) schema: String,
    pub(crate) name: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) primary_key: Vec<String>,
}

/// `"name"` with embedded quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A parameter list under construction.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Params {
    fn push(&mut self, v: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(v));
        format!("${}", self.values.len())
    }
    /// References for `query`.
    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect()
    }
}

impl Table {
    /// `"schema"."table"`.
    pub(crate) fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    /// The catalogue's column for a requested name, or PostgreSQL's 42703 as PostgREST sends it.
    pub(crate) fn column(&self, name: &str) -> Result<&Column, RestError> {
        self.columns.iter().find(|c| c.name == name).ok_or_else(|| {
            RestError::new(400, "42703", format!("column {}.{} does not exist", self.name, name), None, None)
        })
    }

    /// The select list (for SELECT and RETURNING), columns prefixed with `_t.`.
    pub(crate) fn select_list(&self, items: &[SelectItem]) -> Result<String, RestError> {
        let mut out = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => {
                    out.extend(self.columns.iter().map(|c| format!("_t.{}", quote_ident(&c.name))));
                }
                SelectItem::Column { name, alias } => {
                    let c = self.column(name)?;
                    let key = alias.as_deref().unwrap_or(&c.name);
                    out.push(format!("_t.{} as {}", quote_ident(&c.name), quote_ident(key)));
                }
            }
        }
        if out.is_empty() {
            return Ok("null".into());
        }
        Ok(out.join(", "))
    }

    /// `where …` (empty string when there are no filters).
    pub(crate) fn where_clause(&self, filters: &[Filter], params: &mut Params) -> Result<String, RestError> {
        let mut parts = Vec::new();
        for f in filters {
            let c = self.column(&f.column)?;
            let col = format!("_t.{}", quote_ident(&c.name));
            let cond = match &f.op {
                Op::Eq | Op::Neq | Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
                    let sym = match f.op {
                        Op::Eq => "=",
                        Op::Neq => "<>",
                        Op::Gt => ">",
                        Op::Gte => ">=",
                        Op::Lt => "<",
                        _ => "<=",
                    };
                    let p = params.push(f.value.clone());
                    format!("{col} {sym} {p}::text::{}", c.ty)
                }
                Op::Like | Op::Ilike => {
                    let kw = if f.op == Op::Like { "like" } else { "ilike" };
                    let p = params.push(f.value.replace('*', "%"));
                    format!("{col}::text {kw} {p}")
                }
                Op::Is(kw) => format!("{col} is {kw}"),
                Op::In(values) => {
                    let p = params.push(values.clone());
                    format!("{col} = any({p}::text[]::{}[])", c.ty)
                }
            };
            parts.push(if f.negated { format!("not ({cond})") } else { cond });
        }
        Ok(if parts.is_empty() { String::new() } else { format!(" where {}", parts.join(" and ")) })
    }

    /// ` order by …`.
    pub(crate) fn order_clause(&self, order: &[Order]) -> Result<String, RestError> {
        let mut parts = Vec::new();
        for o in order {
            let c = self.column(&o.column)?;
            let mut s = format!("_t.{} {}", quote_ident(&c.name), if o.desc { "desc" } else { "asc" });
            match o.nulls {
                Some(true) => s.push_str(" nulls first"),
                Some(false) => s.push_str(" nulls last"),
                None => {}
            }
            parts.push(s);
        }
        Ok(if parts.is_empty() { String::new() } else { format!(" order by {}", parts.join(", ")) })
    }

    /// The SELECT for a GET: `(json array text, row count)`.
    pub(crate) fn select_sql(&self, q: &Query, params: &mut Params) -> Result<String, RestError> {
        let cols = self.select_list(&q.select)?;
        let w = self.where_clause(&q.filters, params)?;
        let o = self.order_clause(&q.order)?;
        let mut page = String::new();
        if let Some(l) = q.limit {
            page.push_str(&format!(" limit {}", params.push(l)));
        }
        if let Some(off) = q.offset {
            page.push_str(&format!(" offset {}", params.push(off)));
        }
        Ok(format!(
            "select coalesce(json_agg(_r), '[]')::text, count(*) from (select {cols} from {} as _t{w}{o}{page}) _r",
            self.qualified()
        ))
    }

    /// `select count(*)` with the filters (for `Prefer: count=exact`).
    pub(crate) fn count_sql(&self, q: &Query, params: &mut Params) -> Result<String, RestError> {
        let w = self.where_clause(&q.filters, params)?;
        Ok(format!("select count(*) from {} as _t{w}", self.qualified()))
    }

    /// INSERT (optionally an upsert) from a JSON array of objects in one parameter.
    pub(crate) fn insert_sql(
        &self,
        q: &Query,
        keys: &[String],
        body: String,
        upsert: Option<bool>,
        params: &mut Params,
    ) -> Result<String, RestError> {
        let cols: Vec<String> = keys
            .iter()
            .map(|k| {
                self.columns.iter().find(|c| &c.name == k).map(|c| quote_ident(&c.name)).ok_or_else(|| {
                    RestError::new(
                        400,
                        "PGRST204",
                        format!("Could not find the '{k}' column of '{}' in the schema cache", self.name),
                        None,
                        None,
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let p = params.push(body);
        let list = cols.join(", ");
        let mut sql = format!(
            "insert into {} as _t ({list}) select {list} from json_populate_recordset(null::{}, {p}::text::json)",
            self.qualified(),
            self.qualified()
        );
        if let Some(merge) = upsert {
            let target: Vec<String> = match &q.on_conflict {
                Some(c) => c.iter().map(|n| self.column(n).map(|c| quote_ident(&c.name))).collect::<Result<_, _>>()?,
                None => self.primary_key.iter().map(|n| quote_ident(n)).collect(),
            };
            if target.is_empty() {
                return Err(RestError::new(
                    400,
                    "42P10",
                    "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                    None,
                    Some("Pass on_conflict=<columns> for a table without a primary key".into()),
                ));
            }
            sql.push_str(&format!(" on conflict ({})", target.join(", ")));
            if merge && !cols.is_empty() {
                let set: Vec<String> = cols.iter().map(|c| format!("{c} = excluded.{c}")).collect();
                sql.push_str(&format!(" do update set {}", set.join(", ")));
            } else {
                sql.push_str(" do nothing");
            }
        }
        Ok(sql)
    }

    /// UPDATE from a JSON object in one parameter.
    pub(crate) fn update_sql(
        &self,
        q: &Query,
        keys: &[String],
        body: String,
        params: &mut Params,
    ) -> Result<String, RestError> {
        let mut set = Vec::new();
        for k in keys {
            let c = self.columns.iter().find(|c| &c.name == k).ok_or_else(|| {
                RestError::new(
                    400,
                    "PGRST204",
                    format!("Could not find the '{k}' column of '{}' in the schema cache", self.name),
                    None,
                    None,
                )
            })?;
            set.push(format!("{0} = _j.{0}", quote_ident(&c.name)));
        }
        let p = params.push(body);
        let w = self.where_clause(&q.filters, params)?;
        Ok(format!(
            "update {} as _t set {} from (select * from json_populate_record(null::{}, {p}::text::json)) _j{w}",
            self.qualified(),
            set.join(", "),
            self.qualified()
        ))
    }

    /// DELETE.
    pub(crate) fn delete_sql(&self, q: &Query, params: &mut Params) -> Result<String, RestError> {
        let w = self.where_clause(&q.filters, params)?;
        Ok(format!("delete from {} as _t{w}", self.qualified()))
    }
}

/// Wraps a data-modifying statement so that it returns `(json array text, row count)` of the
/// rows it touched, with the request's select list.
pub(crate) fn returning(stmt: &str, select_list: &str) -> String {
    format!("with _w as ({stmt} returning {select_list}) select coalesce(json_agg(_w), '[]')::text, count(*) from _w")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::query;

    fn table() -> Table {
        Table {
            schema: "public".into(),
            name: "todos".into(),
            columns: vec![
                Column { name: "id".into(), ty: "\"pg_catalog\".\"int8\"".into() },
                Column { name: "title".into(), ty: "\"pg_catalog\".\"text\"".into() },
                Column { name: "we\"ird".into(), ty: "\"pg_catalog\".\"text\"".into() },
            ],
            primary_key: vec!["id".into()],
        }
    }

    #[test]
    fn values_are_parameters_and_names_are_checked() {
        let t = table();
        let q =
            query::parse("select=id,we%22ird&id=eq.1%3B%20drop%20table%20todos&title=in.(a,b)&order=id.desc").unwrap();
        let mut p = Params::default();
        let sql = t.select_sql(&q, &mut p).unwrap();
        assert!(!sql.contains("drop"), "{sql}");
        assert!(sql.contains("_t.\"we\"\"ird\""), "{sql}");
        assert!(sql.contains("_t.\"id\" = $1::text::\"pg_catalog\".\"int8\""), "{sql}");
        assert!(sql.contains("= any($2::text[]::\"pg_catalog\".\"text\"[])"), "{sql}");
        assert_eq!(p.values.len(), 2);
        // Unknown columns anywhere are refused before any SQL exists.
        for bad in ["select=id;drop", "nope=eq.1", "order=x\"y.asc", "select=a:b\""] {
            let q = query::parse(bad).unwrap();
            let mut p = Params::default();
            assert!(t.select_sql(&q, &mut p).is_err(), "{bad}");
        }
        let mut p = Params::default();
        assert!(t
            .insert_sql(&Query::default(), &["id\"); drop table todos; --".into()], "[]".into(), None, &mut p)
            .is_err());
    }

    #[test]
    fn upserts() {
        let t = table();
        let mut p = Params::default();
        let sql =
            t.insert_sql(&Query::default(), &["id".into(), "title".into()], "[]".into(), Some(true), &mut p).unwrap();
        assert!(
            sql.ends_with(
                "on conflict (\"id\") do update set \"id\" = excluded.\"id\", \"title\" = excluded.\"title\""
            ),
            "{sql}"
        );
        let sql = t.insert_sql(&Query::default(), &["id".into()], "[]".into(), Some(false), &mut p).unwrap();
        assert!(sql.ends_with("do nothing"));
    }
}
