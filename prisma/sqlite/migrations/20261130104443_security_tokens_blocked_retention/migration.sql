-- CreateTable
CREATE TABLE "RunnerToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "runner" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL DEFAULT '',
    "createdAt" INTEGER NOT NULL,
    "lastUsed" INTEGER NOT NULL DEFAULT 0,
    "revokedAt" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "LanguageDetection" (
    "repoId" INTEGER NOT NULL,
    "commit" TEXT NOT NULL,
    "language" TEXT NOT NULL,
    "createdAt" INTEGER NOT NULL,

    PRIMARY KEY ("repoId", "commit")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ApiToken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" INTEGER NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "expiresAt" INTEGER NOT NULL DEFAULT 0,
    "lastUsed" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_ApiToken" ("createdAt", "id", "userId") SELECT "createdAt", "id", "userId" FROM "ApiToken";
DROP TABLE "ApiToken";
ALTER TABLE "new_ApiToken" RENAME TO "ApiToken";
CREATE INDEX "ApiToken_userId_idx" ON "ApiToken"("userId");
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
    "approvedBy" TEXT NOT NULL DEFAULT '',
    "logsPurged" INTEGER NOT NULL DEFAULT 0,
    "started" INTEGER NOT NULL DEFAULT 0,
    "finished" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Build_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Build" ("action", "after", "authorAvatar", "authorEmail", "authorLogin", "authorName", "before", "cancelled", "changedFiles", "config", "configSource", "createdAt", "cron", "deployTo", "error", "event", "finished", "fork", "id", "link", "message", "number", "params", "parent", "ref", "repoId", "sender", "source", "sourceRepo", "started", "status", "target", "timestamp", "title", "trigger", "updatedAt", "version") SELECT "action", "after", "authorAvatar", "authorEmail", "authorLogin", "authorName", "before", "cancelled", "changedFiles", "config", "configSource", "createdAt", "cron", "deployTo", "error", "event", "finished", "fork", "id", "link", "message", "number", "params", "parent", "ref", "repoId", "sender", "source", "sourceRepo", "started", "status", "target", "timestamp", "title", "trigger", "updatedAt", "version" FROM "Build";
DROP TABLE "Build";
ALTER TABLE "new_Build" RENAME TO "Build";
CREATE INDEX "Build_repoId_status_idx" ON "Build"("repoId", "status");
CREATE UNIQUE INDEX "Build_repoId_number_key" ON "Build"("repoId", "number");
CREATE TABLE "new_Delivery" (
    "provider" TEXT NOT NULL,
    "guid" TEXT NOT NULL,
    "bodyHash" TEXT NOT NULL DEFAULT '',
    "createdAt" INTEGER NOT NULL,

    PRIMARY KEY ("provider", "guid")
);
INSERT INTO "new_Delivery" ("createdAt", "guid", "provider") SELECT "createdAt", "guid", "provider" FROM "Delivery";
DROP TABLE "Delivery";
ALTER TABLE "new_Delivery" RENAME TO "Delivery";
CREATE INDEX "Delivery_provider_bodyHash_idx" ON "Delivery"("provider", "bodyHash");
CREATE TABLE "new_Stage" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "repoId" INTEGER NOT NULL,
    "buildId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'pipeline',
    "type" TEXT NOT NULL DEFAULT 'docker',
    "status" TEXT NOT NULL,
    "error" TEXT NOT NULL DEFAULT '',
    "errignore" BOOLEAN NOT NULL DEFAULT false,
    "exitCode" INTEGER NOT NULL DEFAULT 0,
    "machine" TEXT NOT NULL DEFAULT '',
    "os" TEXT NOT NULL DEFAULT 'linux',
    "arch" TEXT NOT NULL DEFAULT 'amd64',
    "variant" TEXT NOT NULL DEFAULT '',
    "kernel" TEXT NOT NULL DEFAULT '',
    "limit" INTEGER NOT NULL DEFAULT 0,
    "onSuccess" BOOLEAN NOT NULL DEFAULT true,
    "onFailure" BOOLEAN NOT NULL DEFAULT false,
    "dependsOn" TEXT NOT NULL DEFAULT '[]',
    "labels" TEXT NOT NULL DEFAULT '{}',
    "lane" TEXT NOT NULL DEFAULT '',
    "queuedAt" INTEGER NOT NULL DEFAULT 0,
    "leaseUntil" INTEGER NOT NULL DEFAULT 0,
    "tokenHash" TEXT NOT NULL DEFAULT '',
    "started" INTEGER NOT NULL DEFAULT 0,
    "stopped" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Stage_buildId_fkey" FOREIGN KEY ("buildId") REFERENCES "Build" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Stage" ("arch", "buildId", "createdAt", "dependsOn", "errignore", "error", "exitCode", "id", "kernel", "kind", "labels", "lane", "leaseUntil", "limit", "machine", "name", "number", "onFailure", "onSuccess", "os", "queuedAt", "repoId", "started", "status", "stopped", "type", "updatedAt", "variant", "version") SELECT "arch", "buildId", "createdAt", "dependsOn", "errignore", "error", "exitCode", "id", "kernel", "kind", "labels", "lane", "leaseUntil", "limit", "machine", "name", "number", "onFailure", "onSuccess", "os", "queuedAt", "repoId", "started", "status", "stopped", "type", "updatedAt", "variant", "version" FROM "Stage";
DROP TABLE "Stage";
ALTER TABLE "new_Stage" RENAME TO "Stage";
CREATE INDEX "Stage_status_idx" ON "Stage"("status");
CREATE INDEX "Stage_repoId_name_status_idx" ON "Stage"("repoId", "name", "status");
CREATE INDEX "Stage_status_machine_lane_id_idx" ON "Stage"("status", "machine", "lane", "id");
CREATE INDEX "Stage_machine_status_idx" ON "Stage"("machine", "status");
CREATE UNIQUE INDEX "Stage_buildId_number_key" ON "Stage"("buildId", "number");
CREATE TABLE "new_Step" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "stageId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT NOT NULL DEFAULT '',
    "errignore" BOOLEAN NOT NULL DEFAULT false,
    "exitCode" INTEGER NOT NULL DEFAULT 0,
    "image" TEXT NOT NULL DEFAULT '',
    "detached" BOOLEAN NOT NULL DEFAULT false,
    "logCut" BOOLEAN NOT NULL DEFAULT false,
    "dependsOn" TEXT NOT NULL DEFAULT '[]',
    "started" INTEGER NOT NULL DEFAULT 0,
    "stopped" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Step_stageId_fkey" FOREIGN KEY ("stageId") REFERENCES "Stage" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Step" ("dependsOn", "detached", "errignore", "error", "exitCode", "id", "image", "name", "number", "stageId", "started", "status", "stopped", "version") SELECT "dependsOn", "detached", "errignore", "error", "exitCode", "id", "image", "name", "number", "stageId", "started", "status", "stopped", "version" FROM "Step";
DROP TABLE "Step";
ALTER TABLE "new_Step" RENAME TO "Step";
CREATE UNIQUE INDEX "Step_stageId_number_key" ON "Step"("stageId", "number");
CREATE TABLE "new_User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "provider" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "login" TEXT NOT NULL,
    "email" TEXT NOT NULL DEFAULT '',
    "avatar" TEXT NOT NULL DEFAULT '',
    "admin" BOOLEAN NOT NULL DEFAULT false,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "token" TEXT NOT NULL DEFAULT '',
    "refresh" TEXT NOT NULL DEFAULT '',
    "expiry" INTEGER NOT NULL DEFAULT 0,
    "syncedAt" INTEGER NOT NULL DEFAULT 0,
    "lastLogin" INTEGER NOT NULL DEFAULT 0,
    "scmRefused" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL
);
INSERT INTO "new_User" ("active", "admin", "avatar", "createdAt", "email", "expiry", "id", "lastLogin", "login", "provider", "providerId", "refresh", "syncedAt", "token", "updatedAt") SELECT "active", "admin", "avatar", "createdAt", "email", "expiry", "id", "lastLogin", "login", "provider", "providerId", "refresh", "syncedAt", "token", "updatedAt" FROM "User";
DROP TABLE "User";
ALTER TABLE "new_User" RENAME TO "User";
CREATE UNIQUE INDEX "User_provider_providerId_key" ON "User"("provider", "providerId");
CREATE UNIQUE INDEX "User_provider_login_key" ON "User"("provider", "login");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "RunnerToken_runner_idx" ON "RunnerToken"("runner");
