//! A channel's token after the join (protocol reference §5.2–§5.4): the periodic check at
//! min(5 minutes, `exp`) and the `access_token` push, which re-runs the token, strict-session
//! and read-policy checks and shuts the channel down when one fails.

use super::next_check;
use crate::http::unix_now;
use crate::jwt::JwtError;
use crate::realtime::authz;
use crate::realtime::socket::Session;
use authwire_wire::frame::{Frame, Payload};
use authwire_wire::json::{self, Value};
use std::sync::Arc;

impl Session {
    /// The periodic token check (§5.4); `force_expired` treats the token as expired now.
    pub(in crate::realtime) async fn check_token(&mut self, topic: &str, force_expired: bool) {
        let Some(c) = self.channels.get(topic) else { return };
        let now = unix_now();
        let verdict = if force_expired {
            Err(JwtError::Expired { seconds_ago: c.claims.exp().map_or(0, |exp| (now - exp).max(0)) })
        } else {
            authz::verify(&self.state, &c.token, now)
        };
        match verdict {
            Ok(claims) => {
                let c = self.channels.get_mut(topic).expect("checked above");
                c.check_at = next_check(&claims);
                c.claims = claims;
            }
            Err(e) => self.shutdown_channel(topic, &authz::shutdown_message(&e)).await,
        }
    }

    pub(super) async fn on_access_token(&mut self, f: Frame) {
        let Payload::Json(p) = &f.payload else { return };
        let Some(token) =
            json::parse(p).ok().and_then(|v| v.get("access_token").and_then(Value::as_str).map(str::to_owned))
        else {
            return;
        };
        let topic = f.topic.clone();
        let Some(c) = self.channels.get(&topic) else { return };
        if token.starts_with("sb_") || token == c.token {
            return;
        }
        let (private, presence, old_reads, sub_topic) =
            (c.cfg.private, c.cfg.presence_enabled, c.reads, c.key.name.clone());
        let rt = self.state.realtime.clone();
        let claims = match authz::verify(&self.state, &token, unix_now()) {
            Ok(c) => c,
            Err(e) => return self.shutdown_channel(&topic, &authz::shutdown_message(&e)).await,
        };
        if rt.settings.strict_sessions {
            let verdict = match rt.pool.get().await {
                Ok(db) => authz::strict_check(&db, &claims).await.ok(),
                Err(_) => None,
            };
            match verdict {
                Some(Ok(())) => {}
                Some(Err(refusal)) => return self.shutdown_channel(&topic, refusal.message()).await,
                None => {
                    return self
                        .shutdown_channel(&topic, "Realtime was unable to connect to the project database")
                        .await
                }
            }
        }
        let mut reads = old_reads;
        if private {
            let tracking = self.channels.get(&topic).is_some_and(|c| rt.hub.is_tracking(&c.key, c.id));
            let checked = match rt.pool.get().await {
                Ok(mut db) => {
                    let ctx = self.policy_ctx(&claims, &sub_topic);
                    authz::read_policies(&mut db, &ctx, presence || tracking).await.ok()
                }
                Err(_) => None,
            };
            let Some(new) = checked else {
                return self.shutdown_channel(&topic, "Realtime was unable to connect to the project database").await;
            };
            if !new.broadcast && !new.presence {
                let msg = format!("You do not have permissions to read from this Channel topic: {sub_topic}");
                return self.shutdown_channel(&topic, &msg).await;
            }
            if (old_reads.broadcast && !new.broadcast)
                || ((presence || tracking) && old_reads.presence && !new.presence)
            {
                let msg = format!("You no longer have permission to read from this Channel topic: {sub_topic}");
                return self.shutdown_channel(&topic, &msg).await;
            }
            reads = new;
        }
        let Some(c) = self.channels.get_mut(&topic) else { return };
        if let Some(sub) = claims.sub() {
            self.handle.add_user(sub);
        }
        c.check_at = next_check(&claims);
        c.token = token;
        c.user = claims.sub().map(Arc::from);
        c.claims = claims;
        c.reads = reads;
        c.write_broadcast = None;
        c.write_presence = None;
        let (key, id, has_bindings) = (c.key.clone(), c.id, !c.bindings.is_empty());
        rt.hub.set_reads(&key, id, reads.broadcast, reads.presence);
        if has_bindings {
            self.subscribe_changes(&topic).await;
        }
    }
}
