-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Build" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "repoId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "parent" INTEGER NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL,
    "error" TEXT NOT NULL DEFAULT '',
    "event" TEXT NOT NULL,
    "action" TEXT NOT NULL DEFAULT '',
    "trigger" TEXT NOT NULL DEFAULT '',
    "link" TEXT NOT NULL DEFAULT '',
    "timestamp" INTEGER NOT NULL DEFAULT 0,
    "title" TEXT NOT NULL DEFAULT '',
    "message" TEXT NOT NULL DEFAULT '',
    "before" TEXT NOT NULL DEFAULT '',
    "after" TEXT NOT NULL DEFAULT '',
    "ref" TEXT NOT NULL DEFAULT '',
    "sourceRepo" TEXT NOT NULL DEFAULT '',
    "source" TEXT NOT NULL DEFAULT '',
    "target" TEXT NOT NULL DEFAULT '',
    "fork" BOOLEAN NOT NULL DEFAULT false,
    "sourceCloneUrl" TEXT NOT NULL DEFAULT '',
    "authorLogin" TEXT NOT NULL DEFAULT '',
    "authorName" TEXT NOT NULL DEFAULT '',
    "authorEmail" TEXT NOT NULL DEFAULT '',
    "authorAvatar" TEXT NOT NULL DEFAULT '',
    "sender" TEXT NOT NULL DEFAULT '',
    "params" TEXT NOT NULL DEFAULT '{}',
    "cron" TEXT NOT NULL DEFAULT '',
    "deployTo" TEXT NOT NULL DEFAULT '',
    "config" TEXT NOT NULL DEFAULT '',
    "configSource" TEXT NOT NULL DEFAULT 'file',
    "changedFiles" TEXT,
    "cancelled" BOOLEAN NOT NULL DEFAULT false,
    "approvedBy" TEXT NOT NULL DEFAULT '',
    "logsPurged" INTEGER NOT NULL DEFAULT 0,
    "started" INTEGER NOT NULL DEFAULT 0,
    "finished" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Build_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Build" ("action", "after", "approvedBy", "authorAvatar", "authorEmail", "authorLogin", "authorName", "before", "cancelled", "changedFiles", "config", "configSource", "createdAt", "cron", "deployTo", "error", "event", "finished", "fork", "id", "link", "logsPurged", "message", "number", "params", "parent", "ref", "repoId", "sender", "source", "sourceRepo", "started", "status", "target", "timestamp", "title", "trigger", "updatedAt", "version") SELECT "action", "after", "approvedBy", "authorAvatar", "authorEmail", "authorLogin", "authorName", "before", "cancelled", "changedFiles", "config", "configSource", "createdAt", "cron", "deployTo", "error", "event", "finished", "fork", "id", "link", "logsPurged", "message", "number", "params", "parent", "ref", "repoId", "sender", "source", "sourceRepo", "started", "status", "target", "timestamp", "title", "trigger", "updatedAt", "version" FROM "Build";
DROP TABLE "Build";
ALTER TABLE "new_Build" RENAME TO "Build";
CREATE INDEX "Build_repoId_status_idx" ON "Build"("repoId", "status");
CREATE UNIQUE INDEX "Build_repoId_number_key" ON "Build"("repoId", "number");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
