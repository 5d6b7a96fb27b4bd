-- AlterTable
ALTER TABLE "LogChunk" DROP CONSTRAINT "LogChunk_pkey",
ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 1,
ADD CONSTRAINT "LogChunk_pkey" PRIMARY KEY ("stepId", "attempt", "first");

-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 1;

-- CreateTable
CREATE TABLE "StageAttempt" (
    "id" SERIAL NOT NULL,
    "stageId" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT NOT NULL DEFAULT '',
    "exitCode" INTEGER NOT NULL DEFAULT 0,
    "machine" TEXT NOT NULL DEFAULT '',
    "started" INTEGER NOT NULL DEFAULT 0,
    "stopped" INTEGER NOT NULL DEFAULT 0,
    "steps" TEXT NOT NULL DEFAULT '[]',

    CONSTRAINT "StageAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "StageAttempt_stageId_attempt_key" ON "StageAttempt"("stageId", "attempt");

-- AddForeignKey
ALTER TABLE "StageAttempt" ADD CONSTRAINT "StageAttempt_stageId_fkey" FOREIGN KEY ("stageId") REFERENCES "Stage"("id") ON DELETE CASCADE ON UPDATE CASCADE;
