-- AlterTable
ALTER TABLE "Build" ADD COLUMN     "changedFiles" TEXT,
ADD COLUMN     "configSource" TEXT NOT NULL DEFAULT 'file';

-- AlterTable
ALTER TABLE "Repo" ADD COLUMN     "language" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "pipelineProposal" TEXT NOT NULL DEFAULT '';

-- CreateTable
CREATE TABLE "Secret" (
    "id" SERIAL NOT NULL,
    "repoId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "pullRequest" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,

    CONSTRAINT "Secret_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Secret_repoId_name_key" ON "Secret"("repoId", "name");

-- CreateIndex
CREATE INDEX "Stage_repoId_name_status_idx" ON "Stage"("repoId", "name", "status");

-- AddForeignKey
ALTER TABLE "Secret" ADD CONSTRAINT "Secret_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo"("id") ON DELETE CASCADE ON UPDATE CASCADE;
