-- AlterTable
ALTER TABLE "products" ADD COLUMN "stock" INTEGER NOT NULL DEFAULT 0;

-- Backfill: every active product starts with 50 units on hand.
UPDATE "products" SET "stock" = 50 WHERE "active" = true;

-- Reserve stock when an item is added to an order.
CREATE TRIGGER "order_items_reserve_stock"
AFTER INSERT ON "order_items"
FOR EACH ROW
BEGIN
    UPDATE "products"
    SET "stock" = "stock" - NEW."quantity"
    WHERE "id" = NEW."product_id";
END;
