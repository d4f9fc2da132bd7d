-- keel:lock-timeout=2s
CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);
CREATE UNIQUE INDEX customers_email_key ON customers (email);
