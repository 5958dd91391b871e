-- 0013: an upload the blob store has not started yet (deferred = 1). On
-- S3 the registry records a POST's upload here only, and starts it in the
-- bucket at its first chunk: a whole-blob PUT then costs one PutObject,
-- with no upload state written, read and deleted around it. Existing
-- uploads were started when they were created. (The twin of the SQLite
-- migration 0013.)
ALTER TABLE uploads ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
