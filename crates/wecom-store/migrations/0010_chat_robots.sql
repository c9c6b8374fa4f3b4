-- Robots in appchats, and appchat/create's daily limit.

-- The kind of chat a robot is in: 'chat' (the legacy chat service, or a chat wecomd does not
-- model) or 'appchat' (its messages go to the appchat's members like the apps' messages).
ALTER TABLE robots ADD COLUMN chat_kind TEXT NOT NULL DEFAULT 'chat';

-- appchat/create counts the corp's chats created since the day began.
CREATE INDEX appchats_by_created ON appchats (corpid, created_at);

-- A robot's messages in an appchat, for its 20-a-minute limit and its list.
CREATE INDEX messages_by_chat_sender ON messages (corpid, chatid, sender, created_at) WHERE chatid <> '';
