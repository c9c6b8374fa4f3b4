//! The 企业号 APIs WeCom removed (legacy-api.md §8): 企业客服, 摇一摇周边, 卡券. Only legacy
//! tokens reach these handlers; the router answers WeCom tokens 48005. Rules and views are in
//! `wecom_model::removed`.

use crate::auth::{internal, Caller};
use crate::reply::Failure;
use crate::router::Request;
use crate::App;
use serde_json::{Map, Value};
use wecom_model::removed::{
    batchget_view, card_id, card_view, check_card, check_consumable, check_kf, check_page, check_send, check_ticket, code_get_view,
    code_request, consume_view, known_code, list_view, mpnews_view, new_card_id, qrcode_card_id, qrcode_view, shake_view, stock_change,
    stock_too_low, unknown_card, unknown_ticket, CardCode, Counterpart, KfSendBody,
};
use wecom_model::{ApiError, Errcode};
use wecom_store::Stock;

type Fields = Result<Map<String, Value>, Failure>;

fn fail(caller: &Caller) -> impl Fn(ApiError) -> Failure + '_ {
    move |e| Failure::new(e, Some(caller.dialect()))
}

pub async fn kf_list(app: &App, req: &Request, caller: &Caller) -> Fields {
    let kf = app.store.kf(&caller.corpid).await.map_err(internal)?;
    list_view(&kf, req.query.get("type")).map_err(fail(caller))
}

/// kf/send: the kf must be one of the corp's 客服 for its counterpart; a member counterpart must
/// exist (46004), a WeChat user's openid must be one the corp handed out (40073).
pub async fn kf_send(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: KfSendBody = req.json(caller.dialect())?;
    let msg = check_send(&body).map_err(fail(caller))?;
    match &msg.counterpart {
        Counterpart::Userid(u) => {
            app.store.member_place(&caller.corpid, u).await.map_err(internal)?.ok_or(fail(caller)(Errcode::UserNotExist.into()))?;
        }
        Counterpart::Openid(o) => {
            app.store.openid_owner(&caller.corpid, o).await.map_err(internal)?.ok_or(fail(caller)(Errcode::InvalidOpenid.into()))?;
        }
    }
    let kf = app.store.kf(&caller.corpid).await.map_err(internal)?;
    let place = app.store.member_place(&caller.corpid, &msg.kf).await.map_err(internal)?;
    check_kf(&kf, &msg.counterpart, place.as_ref()).map_err(fail(caller))?;
    app.store.add_kf_message(&caller.corpid, &msg, req.now).await.map_err(internal)?;
    Ok(Map::new())
}

pub async fn getshakeinfo(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let ticket = check_ticket(body.get("ticket").and_then(Value::as_str)).map_err(fail(caller))?;
    let shake = app.store.shake(&caller.corpid, ticket, req.now).await.map_err(internal)?.ok_or_else(|| fail(caller)(unknown_ticket()))?;
    Ok(shake_view(&shake))
}

pub async fn card_create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let (card, quantity) = check_card(&body).map_err(fail(caller))?;
    let id = new_card_id();
    app.store.create_card(&caller.corpid, &id, &card, quantity, req.now).await.map_err(internal)?;
    let mut m = Map::new();
    m.insert("card_id".into(), id.into());
    Ok(m)
}

pub async fn card_get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let id = card_id(&body).map_err(fail(caller))?;
    let (card, quantity) = app.store.card(&caller.corpid, id).await.map_err(internal)?.ok_or_else(|| fail(caller)(unknown_card()))?;
    Ok(card_view(id, card, quantity))
}

pub async fn card_batchget(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let (offset, count) = check_page(&body).map_err(fail(caller))?;
    let (ids, total) = app.store.card_ids(&caller.corpid, offset, count).await.map_err(internal)?;
    Ok(batchget_view(ids, total))
}

pub async fn card_delete(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let id = card_id(&body).map_err(fail(caller))?;
    if !app.store.delete_card(&caller.corpid, id).await.map_err(internal)? {
        return Err(fail(caller)(unknown_card()));
    }
    Ok(Map::new())
}

pub async fn card_modifystock(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let id = card_id(&body).map_err(fail(caller))?;
    let delta = stock_change(&body).map_err(fail(caller))?;
    match app.store.modify_stock(&caller.corpid, id, delta).await.map_err(internal)? {
        Stock::Changed => Ok(Map::new()),
        Stock::Unknown => Err(fail(caller)(unknown_card())),
        Stock::TooLow => Err(fail(caller)(stock_too_low())),
    }
}

/// A QR code for an existing card (the ticket is not kept: nothing reads it back).
pub async fn card_qrcode_create(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let id = qrcode_card_id(&body).map_err(fail(caller))?;
    app.store.card(&caller.corpid, id).await.map_err(internal)?.ok_or_else(|| fail(caller)(unknown_card()))?;
    Ok(qrcode_view())
}

pub async fn card_mpnews_gethtml(app: &App, req: &Request, caller: &Caller) -> Fields {
    let body: Value = req.json(caller.dialect())?;
    let id = card_id(&body).map_err(fail(caller))?;
    app.store.card(&caller.corpid, id).await.map_err(internal)?.ok_or_else(|| fail(caller)(unknown_card()))?;
    Ok(mpnews_view(id))
}

/// The code a card/code/* body names (40056 when unknown or of another card), its card, and
/// card/code/get's check_consume.
async fn held_code(app: &App, req: &Request, caller: &Caller) -> Result<(CardCode, Value, bool), Failure> {
    let body: Value = req.json(caller.dialect())?;
    let (code, card_id, check_consume) = code_request(&body).map_err(fail(caller))?;
    let found = app.store.card_code(&caller.corpid, code).await.map_err(internal)?;
    let (held, card) = found.map_or((None, Value::Null), |(c, card)| (Some(c), card));
    Ok((known_code(held, card_id).map_err(fail(caller))?, card, check_consume))
}

/// card/code/get: a code a member received (the control API hands cards out), its validity and
/// whether it can still be consumed.
pub async fn card_code_get(app: &App, req: &Request, caller: &Caller) -> Fields {
    let (held, card, check_consume) = held_code(app, req, caller).await?;
    code_get_view(&card, &held, check_consume, req.now).map_err(fail(caller))
}

/// card/code/consume: once per code (40099 after that).
pub async fn card_code_consume(app: &App, req: &Request, caller: &Caller) -> Fields {
    let (held, card, _) = held_code(app, req, caller).await?;
    check_consumable(&card, &held, req.now).map_err(fail(caller))?;
    if !app.store.consume_code(&caller.corpid, &held.code, req.now).await.map_err(internal)? {
        return Err(fail(caller)(Errcode::CodeConsumed.into()));
    }
    Ok(consume_view(&held))
}
