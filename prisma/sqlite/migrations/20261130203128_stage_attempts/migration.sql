-- CreateTable
CREATE TABLE "StageAttempt" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "stageId" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT NOT NULL DEFAULT '',
    "exitCode" INTEGER NOT NULL DEFAULT 0,
    "machine" TEXT NOT NULL DEFAULT '',
    "started" INTEGER NOT NULL DEFAULT 0,
    "stopped" INTEGER NOT NULL DEFAULT 0,
    "steps" TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT "StageAttempt_stageId_fkey" FOREIGN KEY ("stageId") REFERENCES "Stage" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_LogChunk" (
    "stepId" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "first" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL DEFAULT 0,
    "codec" TEXT NOT NULL DEFAULT 'deflate',
    "data" BLOB NOT NULL,

    PRIMARY KEY ("stepId", "attempt", "first"),
    CONSTRAINT "LogChunk_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_LogChunk" ("bytes", "codec", "data", "first", "last", "stepId") SELECT "bytes", "codec", "data", "first", "last", "stepId" FROM "LogChunk";
DROP TABLE "LogChunk";
ALTER TABLE "new_LogChunk" RENAME TO "LogChunk";
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
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "started" INTEGER NOT NULL DEFAULT 0,
    "stopped" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT "Stage_buildId_fkey" FOREIGN KEY ("buildId") REFERENCES "Build" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Stage" ("arch", "buildId", "createdAt", "dependsOn", "errignore", "error", "exitCode", "id", "kernel", "kind", "labels", "lane", "leaseUntil", "limit", "machine", "name", "number", "onFailure", "onSuccess", "os", "queuedAt", "repoId", "started", "status", "stopped", "tokenHash", "type", "updatedAt", "variant", "version") SELECT "arch", "buildId", "createdAt", "dependsOn", "errignore", "error", "exitCode", "id", "kernel", "kind", "labels", "lane", "leaseUntil", "limit", "machine", "name", "number", "onFailure", "onSuccess", "os", "queuedAt", "repoId", "started", "status", "stopped", "tokenHash", "type", "updatedAt", "variant", "version" FROM "Stage";
DROP TABLE "Stage";
ALTER TABLE "new_Stage" RENAME TO "Stage";
CREATE INDEX "Stage_status_idx" ON "Stage"("status");
CREATE INDEX "Stage_repoId_name_status_idx" ON "Stage"("repoId", "name", "status");
CREATE INDEX "Stage_status_machine_lane_id_idx" ON "Stage"("status", "machine", "lane", "id");
CREATE INDEX "Stage_machine_status_idx" ON "Stage"("machine", "status");
CREATE UNIQUE INDEX "Stage_buildId_number_key" ON "Stage"("buildId", "number");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "StageAttempt_stageId_attempt_key" ON "StageAttempt"("stageId", "attempt");
