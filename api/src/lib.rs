//! The api: HTTP, WebSocket and bot streams for people and bots.
