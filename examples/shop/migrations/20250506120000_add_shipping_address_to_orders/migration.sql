-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_orders" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "shipping_address_id" INTEGER,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "placed_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "total_cents" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "orders_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "orders_shipping_address_id_fkey" FOREIGN KEY ("shipping_address_id") REFERENCES "addresses" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_orders" ("created_at", "id", "placed_at", "status", "total_cents", "updated_at", "user_id") SELECT "created_at", "id", "placed_at", "status", "total_cents", "updated_at", "user_id" FROM "orders";
DROP TABLE "orders";
ALTER TABLE "new_orders" RENAME TO "orders";
CREATE INDEX "orders_user_id_idx" ON "orders"("user_id");
CREATE INDEX "orders_shipping_address_id_idx" ON "orders"("shipping_address_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- Backfill: existing orders ship to their customer's default address.
UPDATE "orders"
SET "shipping_address_id" = (
    SELECT "addresses"."id"
    FROM "addresses"
    WHERE "addresses"."user_id" = "orders"."user_id" AND "addresses"."is_default" = true
    ORDER BY "addresses"."id"
    LIMIT 1
)
WHERE "shipping_address_id" IS NULL;
