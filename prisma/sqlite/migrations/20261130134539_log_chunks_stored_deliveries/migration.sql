-- CreateTable
CREATE TABLE "LogChunk" (
    "stepId" INTEGER NOT NULL,
    "first" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL DEFAULT 0,
    "codec" TEXT NOT NULL DEFAULT 'deflate',
    "data" BLOB NOT NULL,

    PRIMARY KEY ("stepId", "first"),
    CONSTRAINT "LogChunk_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Older logs move over as one plain-JSON chunk per line (codec "json"): no data is lost, and
-- the server reads both codecs.
INSERT INTO "LogChunk" ("stepId", "first", "last", "bytes", "codec", "data")
SELECT "stepId", "pos", "pos", length("out"), 'json', CAST(json_array(json_array("out", "time")) AS BLOB) FROM "LogLine";

-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "LogLine";
PRAGMA foreign_keys=on;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Delivery" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "provider" TEXT NOT NULL,
    "guid" TEXT NOT NULL,
    "bodyHash" TEXT NOT NULL DEFAULT '',
    "repoId" INTEGER,
    "event" TEXT NOT NULL DEFAULT '',
    "headers" TEXT NOT NULL DEFAULT '{}',
    "body" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT NOT NULL DEFAULT '',
    "buildNumber" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttempt" INTEGER NOT NULL DEFAULT 0,
    "redeliveryOf" INTEGER NOT NULL DEFAULT 0,
    "createdAt" INTEGER NOT NULL,
    "finishedAt" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "Delivery_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
-- Deliveries recorded before were recorded with the build they made: they are done, not pending.
INSERT INTO "new_Delivery" ("bodyHash", "createdAt", "guid", "provider", "status", "finishedAt") SELECT "bodyHash", "createdAt", "guid", "provider", 'built', "createdAt" FROM "Delivery";
DROP TABLE "Delivery";
ALTER TABLE "new_Delivery" RENAME TO "Delivery";
CREATE INDEX "Delivery_provider_bodyHash_idx" ON "Delivery"("provider", "bodyHash");
CREATE INDEX "Delivery_repoId_id_idx" ON "Delivery"("repoId", "id");
CREATE INDEX "Delivery_status_nextAttempt_idx" ON "Delivery"("status", "nextAttempt");
CREATE UNIQUE INDEX "Delivery_provider_guid_key" ON "Delivery"("provider", "guid");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
