-- Demo data for local development and the README walk-through.
-- The password hashes are placeholders, not real Argon2 hashes.

INSERT INTO "users" ("id", "email", "name", "password_hash", "updated_at") VALUES
    (1, 'ada@example.com', 'Ada Lovelace', '$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$YWRh', CURRENT_TIMESTAMP),
    (2, 'grace@example.com', 'Grace Hopper', '$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$Z3JhY2U', CURRENT_TIMESTAMP),
    (3, 'linus@example.com', 'Linus O''Brien', '$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$bGludXM', CURRENT_TIMESTAMP);

INSERT INTO "products" ("id", "sku", "name", "description", "price_cents", "active", "updated_at") VALUES
    (1, 'MUG-001', 'Enamel mug', 'Stainless steel; dishwasher safe', 1450, true, CURRENT_TIMESTAMP),
    (2, 'TEE-BLK-M', 'Black T-shirt (M)', 'Organic cotton', 2500, true, CURRENT_TIMESTAMP),
    (3, 'NB-A5', 'A5 notebook', 'Dotted, 120 pages', 900, true, CURRENT_TIMESTAMP),
    (4, 'STK-OLD', 'Sticker pack (2024)', NULL, 300, false, CURRENT_TIMESTAMP);

INSERT INTO "addresses" ("id", "user_id", "label", "line1", "postal_code", "city", "country", "is_default") VALUES
    (1, 1, 'home', '12 St James''s Square', 'SW1Y 4JH', 'London', 'GB', true),
    (2, 2, 'home', '1 Navy Yard', '20374', 'Washington', 'US', true),
    (3, 2, 'work', '400 Main St', '02142', 'Cambridge', 'US', false);

INSERT INTO "orders" ("id", "user_id", "status", "placed_at", "updated_at") VALUES
    (1, 1, 'delivered', '2025-03-01 10:15:00', CURRENT_TIMESTAMP),
    (2, 2, 'shipped', '2025-03-07 16:40:00', CURRENT_TIMESTAMP),
    (3, 3, 'pending', NULL, CURRENT_TIMESTAMP);

INSERT INTO "order_items" ("order_id", "product_id", "quantity", "unit_price_cents") VALUES
    (1, 1, 2, 1450),
    (1, 3, 1, 900),
    (2, 2, 1, 2500),
    (2, 1, 1, 1450),
    (3, 3, 3, 900);

INSERT INTO "reviews" ("product_id", "user_id", "rating", "title", "body") VALUES
    (1, 1, 5, 'Keeps coffee hot', 'Survived a drop onto tiles.'),
    (1, 2, 4, 'Good mug', NULL),
    (3, 1, 4, NULL, 'Paper takes fountain pen ink without bleeding.'),
    (1, 2, 5, 'Good mug -- update', 'After a month: still no chips; five stars.');
