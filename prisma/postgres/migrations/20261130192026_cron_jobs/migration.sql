-- CreateTable
CREATE TABLE "Cron" (
    "id" SERIAL NOT NULL,
    "repoId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "expr" TEXT NOT NULL,
    "branch" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "next" INTEGER NOT NULL DEFAULT 0,
    "prev" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT NOT NULL DEFAULT '',
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "Cron_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Cron_disabled_next_idx" ON "Cron"("disabled", "next");

-- CreateIndex
CREATE UNIQUE INDEX "Cron_repoId_name_key" ON "Cron"("repoId", "name");

-- AddForeignKey
ALTER TABLE "Cron" ADD CONSTRAINT "Cron_repoId_fkey" FOREIGN KEY ("repoId") REFERENCES "Repo"("id") ON DELETE CASCADE ON UPDATE CASCADE;
