-- AlterTable
ALTER TABLE "ApiToken" ADD COLUMN     "expiresAt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastUsed" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "name" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "Build" ADD COLUMN     "approvedBy" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "logsPurged" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Delivery" ADD COLUMN     "bodyHash" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "tokenHash" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "Step" ADD COLUMN     "logCut" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "scmRefused" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "RunnerToken" (
    "id" TEXT NOT NULL,
    "runner" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL DEFAULT '',
    "createdAt" INTEGER NOT NULL,
    "lastUsed" INTEGER NOT NULL DEFAULT 0,
    "revokedAt" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "RunnerToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LanguageDetection" (
    "repoId" INTEGER NOT NULL,
    "commit" TEXT NOT NULL,
    "language" TEXT NOT NULL,
    "createdAt" INTEGER NOT NULL,

    CONSTRAINT "LanguageDetection_pkey" PRIMARY KEY ("repoId","commit")
);

-- CreateIndex
CREATE INDEX "RunnerToken_runner_idx" ON "RunnerToken"("runner");

-- CreateIndex
CREATE INDEX "Delivery_provider_bodyHash_idx" ON "Delivery"("provider", "bodyHash");
