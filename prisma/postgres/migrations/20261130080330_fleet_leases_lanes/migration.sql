-- AlterTable
ALTER TABLE "Runner" ADD COLUMN     "instance" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "sick" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "stopping" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "lane" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "leaseUntil" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "queuedAt" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "Stage_status_machine_lane_id_idx" ON "Stage"("status", "machine", "lane", "id");

-- CreateIndex
CREATE INDEX "Stage_machine_status_idx" ON "Stage"("machine", "status");
