-- CreateTable
CREATE TABLE "order_events" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "order_id" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "order_events_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "order_events_order_id_idx" ON "order_events"("order_id");

-- Record every status change of an order; the outbox worker reads this table.
CREATE TRIGGER "orders_status_event"
AFTER UPDATE OF "status" ON "orders"
FOR EACH ROW
WHEN OLD."status" <> NEW."status"
BEGIN
    INSERT INTO "order_events" ("order_id", "kind")
    VALUES (
        NEW."id",
        CASE NEW."status"
            WHEN 'paid' THEN 'order.paid'
            WHEN 'shipped' THEN 'order.shipped'
            WHEN 'delivered' THEN 'order.delivered'
            WHEN 'cancelled' THEN 'order.cancelled'
            ELSE 'order.updated'
        END
    );
    UPDATE "orders" SET "updated_at" = CURRENT_TIMESTAMP WHERE "id" = NEW."id";
END;
