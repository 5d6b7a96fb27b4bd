-- AlterTable
ALTER TABLE "Build" ADD COLUMN     "sourceCloneUrl" TEXT NOT NULL DEFAULT '';
