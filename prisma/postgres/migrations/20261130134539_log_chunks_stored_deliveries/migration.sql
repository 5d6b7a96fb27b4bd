-- DropForeignKey
ALTER TABLE "LogLine" DROP CONSTRAINT "LogLine_stepId_fkey";

-- AlterTable
ALTER TABLE "Delivery" DROP CONSTRAINT "Delivery_pkey",
ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "body" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "buildNumber" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "event" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "finishedAt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "headers" TEXT NOT NULL DEFAULT '{}',
ADD COLUMN     "id" SERIAL NOT NULL,
ADD COLUMN     "nextAttempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "reason" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "redeliveryOf" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "repoId" INTEGER,
ADD COLUMN     "status" TEXT NOT NULL DEFAULT 'pending',
ADD CONSTRAINT "Delivery_pkey" PRIMARY KEY ("id");

-- CreateTable
CREATE TABLE "LogChunk" (
    "stepId" INTEGER NOT NULL,
    "first" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL DEFAULT 0,
    "codec" TEXT NOT NULL DEFAULT 'deflate',
    "data" BYTEA NOT NULL,

    CONSTRAINT "LogChunk_pkey" PRIMARY KEY ("stepId","first")
);

-- Older logs move over as one plain-JSON chunk per line (codec "json"): no data is lost, and
-- the server reads both codecs.
INSERT INTO "LogChunk" ("stepId", "first", "last", "bytes", "codec", "data")
SELECT "stepId", "pos", "pos", length("out"), 'json', convert_to(json_build_array(json_build_array("out", "time"))::text, 'UTF8') FROM "LogLine";

-- DropTable
DROP TABLE "LogLine";

-- Deliveries recorded before were recorded with the build they made: they are done, not pending.
UPDATE "Delivery" SET "status" = 'built', "finishedAt" = "createdAt";

-- CreateIndex
CREATE INDEX "Delivery_repoId_id_idx" ON "Delivery"("repoId", "id");

-- CreateIndex
CREATE INDEX "Delivery_status_nextAttempt_idx" ON "Delivery"("status", "nextAttempt");

-- CreateIndex
CREATE UNIQUE INDEX "Delivery_provider_guid_key" ON "Delivery"("provider", "guid");

-- AddForeignKey
ALTER TABLE "LogChunk" ADD CONSTRAINT "LogChunk_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Delivery" ADD CONSTRAINT "Delivery_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo"("id") ON DELETE CASCADE ON UPDATE CASCADE;
