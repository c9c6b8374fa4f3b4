//! The platform's rules without IO: what a request means, what is allowed, what the answer looks
//! like in each dialect. The server crate only moves bytes between HTTP, the store and these rules.

pub mod agent;
pub mod appchat;
pub mod batch;
pub mod body;
pub mod callback;
pub mod chat;
pub mod credential;
pub mod department;
pub mod dialect;
pub mod endpoint;
pub mod errcode;
pub mod event;
pub mod material;
pub mod media;
pub mod menu;
pub mod message;
pub mod ratelimit;
pub mod removed;
pub mod scope;
pub mod seed;
pub mod tag;
pub mod ticket;
pub mod token;
pub mod user;
pub mod user_fields;
pub mod webhook;

pub use dialect::Dialect;
pub use endpoint::Endpoint;
pub use errcode::{ApiError, Errcode};
