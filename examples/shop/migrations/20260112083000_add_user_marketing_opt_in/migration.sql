-- AlterTable
ALTER TABLE "users" ADD COLUMN "marketing_opt_in" BOOLEAN NOT NULL DEFAULT false;
