-- CreateTable
CREATE TABLE "Secret" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "repoId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "pullRequest" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    CONSTRAINT "Secret_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

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
    "started" INTEGER NOT NULL DEFAULT 0,
    "finished" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Build_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Build" ("action", "after", "authorAvatar", "authorEmail", "authorLogin", "authorName", "before", "cancelled", "config", "createdAt", "cron", "deployTo", "error", "event", "finished", "fork", "id", "link", "message", "number", "params", "parent", "ref", "repoId", "sender", "source", "sourceRepo", "started", "status", "target", "timestamp", "title", "trigger", "updatedAt", "version") SELECT "action", "after", "authorAvatar", "authorEmail", "authorLogin", "authorName", "before", "cancelled", "config", "createdAt", "cron", "deployTo", "error", "event", "finished", "fork", "id", "link", "message", "number", "params", "parent", "ref", "repoId", "sender", "source", "sourceRepo", "started", "status", "target", "timestamp", "title", "trigger", "updatedAt", "version" FROM "Build";
DROP TABLE "Build";
ALTER TABLE "new_Build" RENAME TO "Build";
CREATE INDEX "Build_repoId_status_idx" ON "Build"("repoId", "status");
CREATE UNIQUE INDEX "Build_repoId_number_key" ON "Build"("repoId", "number");
CREATE TABLE "new_Repo" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "provider" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "userId" INTEGER,
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "cloneUrl" TEXT NOT NULL DEFAULT '',
    "sshUrl" TEXT NOT NULL DEFAULT '',
    "link" TEXT NOT NULL DEFAULT '',
    "defaultBranch" TEXT NOT NULL DEFAULT 'main',
    "private" BOOLEAN NOT NULL DEFAULT false,
    "visibility" TEXT NOT NULL DEFAULT 'public',
    "active" BOOLEAN NOT NULL DEFAULT false,
    "configPath" TEXT NOT NULL DEFAULT '.drone.yml',
    "trusted" BOOLEAN NOT NULL DEFAULT false,
    "protected" BOOLEAN NOT NULL DEFAULT false,
    "ignoreForks" BOOLEAN NOT NULL DEFAULT false,
    "ignorePullRequests" BOOLEAN NOT NULL DEFAULT false,
    "timeout" INTEGER NOT NULL DEFAULT 60,
    "counter" INTEGER NOT NULL DEFAULT 0,
    "hookSecret" TEXT NOT NULL DEFAULT '',
    "hookId" TEXT NOT NULL DEFAULT '',
    "language" TEXT NOT NULL DEFAULT '',
    "pipelineProposal" TEXT NOT NULL DEFAULT '',
    "syncedAt" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Repo_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Repo" ("active", "cloneUrl", "configPath", "counter", "createdAt", "defaultBranch", "hookId", "hookSecret", "id", "ignoreForks", "ignorePullRequests", "link", "name", "namespace", "private", "protected", "provider", "slug", "sshUrl", "syncedAt", "timeout", "trusted", "uid", "updatedAt", "userId", "version", "visibility") SELECT "active", "cloneUrl", "configPath", "counter", "createdAt", "defaultBranch", "hookId", "hookSecret", "id", "ignoreForks", "ignorePullRequests", "link", "name", "namespace", "private", "protected", "provider", "slug", "sshUrl", "syncedAt", "timeout", "trusted", "uid", "updatedAt", "userId", "version", "visibility" FROM "Repo";
DROP TABLE "Repo";
ALTER TABLE "new_Repo" RENAME TO "Repo";
CREATE UNIQUE INDEX "Repo_provider_uid_key" ON "Repo"("provider", "uid");
CREATE UNIQUE INDEX "Repo_provider_slug_key" ON "Repo"("provider", "slug");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Secret_repoId_name_key" ON "Secret"("repoId", "name");

-- CreateIndex
CREATE INDEX "Stage_repoId_name_status_idx" ON "Stage"("repoId", "name", "status");
