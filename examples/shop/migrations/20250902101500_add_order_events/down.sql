-- DropTrigger
DROP TRIGGER "orders_status_event";

-- DropIndex
DROP INDEX "order_events_order_id_idx";

-- DropTable
DROP TABLE "order_events";
