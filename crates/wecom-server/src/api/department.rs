//! Departments (wecom-api.md §5, legacy-api.md §4). Rules and views are in
//! `wecom_model::department`; these handlers move data between them, HTTP and the store.

use crate::auth::{detail_read, internal, range, ranges_changed, write_range, Caller};
use crate::directory::directory_changed;
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::department::{optional_query_id, query_id, readable, simple_view, view, visible, Department};
use wecom_model::{ApiError, Dialect};
use wecom_store::{DepartmentWrite, Origin};

type Fields = Result<Map<String, Value>, Failure>;

fn fail(dialect: Dialect) -> impl Fn(ApiError) -> Failure {
    move |e| Failure::new(e, Some(dialect))
}

async fn write(app: &App, req: &Request, caller: &Caller, op: impl FnOnce() -> Result<DepartmentWrite, Failure>) -> Result<i64, Failure> {
    let dialect = caller.dialect();
    let rights = write_range(&app.store, caller).await?;
    let op = op()?;
    let id = app
        .store
        .write_department(&caller.corpid, Origin::Caller(caller.scope), op, dialect, &rights, req.now)
        .await
        .map_err(internal)?
        .map_err(fail(dialect))?;
    directory_changed(app).await;
    Ok(id)
}

pub async fn create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let id = write(app, req, caller, || Ok(DepartmentWrite::Create(req.json(caller.dialect())?))).await?;
    Ok(Map::from_iter([("id".to_string(), id.into())]))
}

pub async fn update(app: &App, req: &Request, caller: &Caller) -> Fields {
    write(app, req, caller, || Ok(DepartmentWrite::Update(req.json(caller.dialect())?))).await?;
    Ok(Map::new())
}

pub async fn delete(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    write(app, req, caller, || Ok(DepartmentWrite::Delete(query_id(dialect, req.query.get("id")).map_err(fail(dialect))?))).await?;
    ranges_changed(app).await;
    Ok(Map::new())
}

/// list and simplelist: the departments the request names, within the caller's range.
async fn read(app: &App, req: &Request, caller: &Caller, render: impl Fn(&Department) -> Value) -> Result<Vec<Value>, Failure> {
    let dialect = caller.dialect();
    let id = optional_query_id(dialect, req.query.get("id")).map_err(fail(dialect))?;
    let seen = range(app, caller).await?;
    let tree = app.store.departments(&caller.corpid).await.map_err(internal)?;
    Ok(readable(&tree, id, &seen).map_err(fail(dialect))?.into_iter().map(render).collect())
}

pub async fn list(app: &App, req: &Request, caller: &Caller) -> Fields {
    detail_read(app, req, caller).await?;
    let leaders = app.store.department_leaders(&caller.corpid).await.map_err(internal)?;
    let items = read(app, req, caller, |d| view(caller.dialect(), d, leaders.get(&d.id).map_or(&[], Vec::as_slice))).await?;
    Ok(Map::from_iter([("department".to_string(), Value::Array(items))]))
}

pub async fn simplelist(app: &App, req: &Request, caller: &Caller) -> Fields {
    let items = read(app, req, caller, |d| simple_view(caller.dialect(), d)).await?;
    Ok(Map::from_iter([("department_id".to_string(), Value::Array(items))]))
}

pub async fn get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let dialect = caller.dialect();
    let id = query_id(dialect, req.query.get("id")).map_err(fail(dialect))?;
    let seen = range(app, caller).await?;
    let tree = app.store.departments(&caller.corpid).await.map_err(internal)?;
    let d = visible(&tree, id, &seen).map_err(fail(dialect))?;
    let leaders = app.store.department_leaders(&caller.corpid).await.map_err(internal)?;
    let item = view(dialect, d, leaders.get(&d.id).map_or(&[], Vec::as_slice));
    Ok(Map::from_iter([("department".to_string(), item)]))
}
