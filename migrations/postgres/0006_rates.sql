-- Each tenant's hotel rates: nightly prices per room type and meal plan for a period, in
-- integer minor units of the row's currency. Names match migrations/sqlite.
--
-- `nights` is the stay length the dashboard's whole-stay totals describe
-- (`total_7nights_pps` = `sharing_per_night_minor` × `nights`); flights and transfers are
-- per person for the whole trip.

CREATE TABLE rates (
    id                      TEXT NOT NULL,
    tenant_id               TEXT NOT NULL,
    rate_id                 TEXT NOT NULL,
    hotel_name              TEXT NOT NULL,
    destination             TEXT NOT NULL,
    star_rating             SMALLINT,
    room_type               TEXT NOT NULL,
    meal_plan               TEXT NOT NULL,
    valid_from              DATE NOT NULL,
    valid_to                DATE NOT NULL,
    currency                TEXT NOT NULL,
    sharing_per_night_minor BIGINT NOT NULL,
    single_per_night_minor  BIGINT,
    child_per_night_minor   BIGINT,
    infant_per_night_minor  BIGINT,
    min_nights              INTEGER NOT NULL DEFAULT 1,
    nights                  INTEGER NOT NULL DEFAULT 7,
    flights_adult_minor     BIGINT,
    flights_child_minor     BIGINT,
    transfers_adult_minor   BIGINT,
    transfers_child_minor   BIGINT,
    is_active               BOOLEAN NOT NULL DEFAULT TRUE,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    CONSTRAINT rates_pkey PRIMARY KEY (id),
    CONSTRAINT rates_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT rates_period_check CHECK (valid_to >= valid_from),
    CONSTRAINT rates_nights_check CHECK (min_nights BETWEEN 1 AND 30
        AND nights BETWEEN min_nights AND 30),
    CONSTRAINT rates_star_rating_check CHECK (star_rating IS NULL OR star_rating BETWEEN 1 AND 7),
    CONSTRAINT rates_amounts_check CHECK (sharing_per_night_minor >= 0
        AND COALESCE(single_per_night_minor, 0) >= 0
        AND COALESCE(child_per_night_minor, 0) >= 0
        AND COALESCE(infant_per_night_minor, 0) >= 0
        AND COALESCE(flights_adult_minor, 0) >= 0
        AND COALESCE(flights_child_minor, 0) >= 0
        AND COALESCE(transfers_adult_minor, 0) >= 0
        AND COALESCE(transfers_child_minor, 0) >= 0)
);

-- The public id, unique within the tenant.
CREATE UNIQUE INDEX rates_rate_id_key ON rates (tenant_id, rate_id);
-- One row per offer: importing the same offer again updates it.
CREATE UNIQUE INDEX rates_natural_key
    ON rates (tenant_id, hotel_name, room_type, meal_plan, valid_from, valid_to);
-- Quote matching (destination, stay length, dates) and the destination filter.
CREATE INDEX rates_destination_idx ON rates (tenant_id, lower(destination), nights, valid_from);
-- The list order and the hotel pages.
CREATE INDEX rates_hotel_idx ON rates (tenant_id, lower(hotel_name), valid_from);

SELECT caravan_enable_tenant_rls('rates');
