-- Covering indexes for the search by name alone: each name range is scanned in its
-- index, which also holds the sort columns (reading_key, resident_id), so a family name
-- matching thousands is sorted and cut without reading their rows.
DROP INDEX residents_name_key;
DROP INDEX residents_reading_key;
DROP INDEX residents_alias_key;
CREATE INDEX residents_name_key ON residents (name_key, reading_key, resident_id);
CREATE INDEX residents_reading_key ON residents (reading_key, resident_id);
CREATE INDEX residents_alias_key ON residents (alias_key, reading_key, resident_id) WHERE alias_key IS NOT NULL;
