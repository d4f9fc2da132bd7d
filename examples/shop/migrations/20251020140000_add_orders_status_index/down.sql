-- DropIndex
DROP INDEX "orders_status_created_at_idx";
