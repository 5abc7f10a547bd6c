BEGIN TRANSACTION;
CREATE TABLE contact_events (
	id INTEGER NOT NULL, 
	customer_id INTEGER NOT NULL, 
	occurred_at DATETIME NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	summary TEXT NOT NULL, 
	source VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_contact_events_row UNIQUE (customer_id, occurred_at, kind, summary), 
	FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE
);
CREATE TABLE customers (
	id INTEGER NOT NULL, 
	external_id VARCHAR(200) NOT NULL, 
	first_name VARCHAR(200) NOT NULL, 
	last_name VARCHAR(200) NOT NULL, 
	email VARCHAR(320), 
	birth_year INTEGER, 
	birth_month INTEGER, 
	birth_day INTEGER, 
	country VARCHAR(2) NOT NULL, 
	subdivision VARCHAR(50) NOT NULL, 
	street VARCHAR(500) NOT NULL, 
	city VARCHAR(200) NOT NULL, 
	postal_code VARCHAR(50) NOT NULL, 
	channel VARCHAR(10) NOT NULL, 
	language VARCHAR(20) NOT NULL, 
	owner VARCHAR(200) NOT NULL, 
	customer_since DATE, 
	no_email BOOLEAN NOT NULL, 
	no_post BOOLEAN NOT NULL, 
	no_humor BOOLEAN NOT NULL, 
	do_not_contact BOOLEAN NOT NULL, 
	notes TEXT NOT NULL, 
	added_on DATE NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (external_id)
);
CREATE TABLE schema_migrations (
	version INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_migrations" VALUES(1,'initial: customers, contact events','2026-11-22 18:27:53.774714');
CREATE INDEX ix_customers_last_name ON customers (last_name, first_name);
COMMIT;
