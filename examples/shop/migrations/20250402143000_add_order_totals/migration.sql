-- AlterTable
ALTER TABLE "orders" ADD COLUMN "total_cents" INTEGER NOT NULL DEFAULT 0;

-- Backfill the total of every existing order from its items.
UPDATE "orders"
SET "total_cents" = (
    SELECT COALESCE(SUM("order_items"."quantity" * "order_items"."unit_price_cents"), 0)
    FROM "order_items"
    WHERE "order_items"."order_id" = "orders"."id"
);
