"""Chats: LINE and web chats in one queue. The person's side (LINE's webhook, the web chat's
gateway), the counsellor's chat API, and closing a chat into a consultation."""
