-- Reviews become editable: one review per customer and product.

-- AlterTable
ALTER TABLE "reviews" ADD COLUMN "updated_at" DATETIME;

-- CreateIndex
CREATE UNIQUE INDEX "reviews_product_id_user_id_key" ON "reviews"("product_id", "user_id");

-- CreateIndex
CREATE INDEX "reviews_user_id_idx" ON "reviews"("user_id");
