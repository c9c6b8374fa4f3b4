//! getcallbackip and get_api_domain_ip (wecom-api.md §2.2–2.3): the same shape in both dialects;
//! only the envelope differs, which the renderer applies.

use crate::App;
use serde_json::{Map, Value};

fn ip_list(ips: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ip_list".into(), ips.iter().cloned().map(Value::String).collect());
    m
}

pub fn getcallbackip(app: &App) -> Map<String, Value> {
    ip_list(&app.config.callback_ips)
}

pub fn get_api_domain_ip(app: &App) -> Map<String, Value> {
    ip_list(&app.config.api_domain_ips)
}
