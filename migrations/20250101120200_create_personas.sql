-- migrate:up
-- A user's personas go with the user.
CREATE TABLE personas (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  bio TEXT,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT personas_user_id_name_key UNIQUE (user_id, name)
);

-- migrate:down
DROP TABLE personas;
