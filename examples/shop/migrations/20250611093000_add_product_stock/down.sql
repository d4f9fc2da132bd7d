-- DropTrigger
DROP TRIGGER "order_items_reserve_stock";

-- AlterTable
ALTER TABLE "products" DROP COLUMN "stock";
