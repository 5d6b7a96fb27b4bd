-- CreateTable
CREATE TABLE "OrgSecret" (
    "id" SERIAL NOT NULL,
    "provider" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "pullRequest" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" INTEGER NOT NULL,
    "updatedAt" INTEGER NOT NULL,

    CONSTRAINT "OrgSecret_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "OrgSecret_provider_namespace_name_key" ON "OrgSecret"("provider", "namespace", "name");
